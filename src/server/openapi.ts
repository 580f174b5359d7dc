import type { Route } from './router.js';

/** An OpenAPI 3.1 document (the parts Cairn fills in). */
export interface OpenApiDoc {
  openapi: '3.1.0';
  info: { title: string; version: string; description: string };
  components: { securitySchemes: Record<string, unknown>; schemas: Record<string, unknown> };
  paths: Record<string, Record<string, unknown>>;
}

/** The OpenAPI path of a route: `:x` and `*x` become `{x}` (a `*` parameter may hold `/`). */
export function openApiPath(path: string): string {
  return path.replace(/[:*]([A-Za-z0-9_]+)/g, '{$1}');
}

/**
 * Describes every route of the table: method, path, parameters, summary, the token scope it
 * needs (`x-cairn-access`, and bearer security unless public) and the error envelope. Generated
 * from the same table the router matches, so it cannot leave a route out.
 */
export function buildOpenApi(routes: Route[], version: string): OpenApiDoc {
  const paths: OpenApiDoc['paths'] = {};
  for (const r of routes) {
    const p = openApiPath(r.path);
    const params: Record<string, unknown>[] = [...r.path.matchAll(/([:*])([A-Za-z0-9_]+)/g)].map(
      ([, kind, name]) => ({
        name,
        in: 'path',
        required: true,
        schema: { type: 'string' },
        ...(kind === '*' ? { description: 'may contain / (the rest of the path)' } : {}),
      }),
    );
    // The query parameters the route takes: the same list the server checks requests against.
    if (Array.isArray(r.query))
      for (const name of r.query) params.push({ name, in: 'query', schema: { type: 'string' } });
    if (r.meta)
      params.push({
        name: 'meta.KEY',
        in: 'query',
        description: 'metadata: any number of meta.<key> parameters',
        schema: { type: 'string' },
      });
    paths[p] ??= {};
    paths[p][r.method.toLowerCase()] = {
      operationId: `${r.method.toLowerCase()}${p.replace(/[^A-Za-z0-9]+(.)?/g, (_m, c?: string) => (c ? c.toUpperCase() : ''))}`,
      summary: r.summary,
      'x-cairn-access': r.access,
      security: r.access === 'public' ? [] : [{ bearer: [] }],
      ...(params.length ? { parameters: params } : {}),
      responses: {
        '2XX': { description: 'Success (JSON unless the route serves bytes, a tar or SSE)' },
        default: {
          description: 'Error',
          content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
        },
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Cairn',
      version,
      description:
        'Self-hosted artifact store for AI agents. Errors: {"error":{"code","message"}}.',
    },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: {
        Error: {
          type: 'object',
          required: ['error'],
          properties: {
            error: {
              type: 'object',
              required: ['code', 'message'],
              properties: {
                code: { type: 'string' },
                message: { type: 'string' },
                details: { type: 'object' },
              },
            },
          },
        },
      },
    },
    paths,
  };
}
