import type { App } from '../../app.js';
import { UnauthorizedError } from '../../lib/errors.js';
import { McpHttpEndpoint } from '../../mcp/mcp-http.js';
import type { Ctx, Route } from '../router.js';

const endpoints = new WeakMap<App, McpHttpEndpoint>();

/** The app's `/mcp` endpoint, built on first use from its config. */
function endpointFor(app: App): McpHttpEndpoint {
  let e = endpoints.get(app);
  if (!e) {
    const { config } = app;
    const hostNames = [config.host];
    if (config.publicUrl) hostNames.push(new URL(config.publicUrl).hostname);
    e = new McpHttpEndpoint({
      allowPaths: config.mcpAllowPaths ?? [],
      denyPaths: [config.dataDir],
      offHint: 'ask the operator to start `cairn serve` with --mcp-allow-path DIR',
      hostNames,
    });
    endpoints.set(app, e);
  }
  return e;
}

async function serveMcp(c: Ctx): Promise<void> {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(c.req.headers.authorization ?? '');
  if (!c.principal || !m) throw new UnauthorizedError();
  await endpointFor(c.app).serve(c.req, c.res, {
    token: m[1],
    tokenId: c.principal.tokenId,
    scope: c.principal.scope,
  });
}

/**
 * MCP over Streamable HTTP (stateless). Any valid token may connect; each tool call is then
 * authorized by the API like the same request over HTTP (pushing needs `write`).
 */
export function bindMcpRoutes(): Route[] {
  return [
    {
      method: 'POST',
      path: '/mcp',
      query: 'any',
      access: 'read',
      summary: 'MCP over Streamable HTTP (tools and resources; see MCP server)',
      handler: serveMcp,
    },
    {
      method: 'GET',
      path: '/mcp',
      query: 'any',
      access: 'read',
      summary: 'MCP Streamable HTTP stream (stateless server: 405)',
      handler: serveMcp,
    },
    {
      method: 'DELETE',
      path: '/mcp',
      query: 'any',
      access: 'read',
      summary: 'MCP session end (stateless server: 405)',
      handler: serveMcp,
    },
  ];
}
