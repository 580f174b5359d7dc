import type { IncomingMessage, ServerResponse } from 'node:http';
import type { App } from '../app.js';
import type { ReadScope } from '../core/read-scope.js';
import type { Principal } from '../core/token-service.js';
import type { Scope } from '../core/types.js';
import { InvalidInputError } from '../lib/errors.js';
import type { Query } from './request.js';

/** Who may call a route: anyone, or a token with at least this scope. */
export type Access = Scope | 'public';

/** What a handler gets. */
export interface Ctx {
  app: App;
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  /** Path parameters, decoded. `*name` parameters keep their `/`. */
  params: Record<string, string>;
  /** The caller (null on public routes). */
  principal: Principal | null;
  /** Throws ForbiddenError unless the caller has `scope` (for `session`, if writing). */
  authorize(scope: Scope, session?: string): void;
  /**
   * The sessions the caller may read (its token's glob): queries and lists take its glob, and
   * a record of another session is a 404. Every session on public routes.
   */
  reads: ReadScope;
  requestId: string;
  /** The query string, checked against the route's `query` before the handler runs. */
  query: Query;
}

/** One route of the table. */
export interface Route {
  method: 'GET' | 'HEAD' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';
  /** `/v1/sessions/:sid/artifacts/*name` — `:x` one segment, `*x` the rest of the path. */
  path: string;
  access: Access;
  /** One line for the API description. */
  summary: string;
  /**
   * The query parameters it takes (default none): any other is a 400 before the handler runs,
   * so a typo never silently changes what a request does. `any` for pages and links whose
   * query strings are not the API's (the browse page, share links, /mcp, health checks).
   */
  query?: readonly string[] | 'any';
  /** Also takes `meta.KEY` parameters. */
  meta?: boolean;
  handler(ctx: Ctx): Promise<void>;
}

interface Compiled {
  route: Route;
  segments: string[];
}

/** Matches request paths against a route table. */
export class Router {
  private readonly compiled: Compiled[];

  constructor(readonly routes: Route[]) {
    this.compiled = routes.map((route) => ({ route, segments: route.path.split('/').slice(1) }));
  }

  /**
   * The route for a method and raw path, with decoded params; `{allowed}` if the path exists
   * under other methods; null if no route has this path. HEAD falls back to GET.
   */
  match(
    method: string,
    rawPath: string,
  ): { route: Route; params: Record<string, string> } | { allowed: string[] } | null {
    const parts = rawPath.split('/').slice(1);
    const allowed: string[] = [];
    for (const c of this.compiled) {
      const params = matchSegments(c.segments, parts);
      if (!params) continue;
      if (
        c.route.method === method ||
        (method === 'HEAD' && c.route.method === 'GET' && !this.hasHead(c.route.path))
      ) {
        return { route: c.route, params };
      }
      allowed.push(c.route.method);
    }
    // HEAD is served wherever GET is; a method named by two patterns is listed once.
    if (allowed.includes('GET')) allowed.push('HEAD');
    return allowed.length ? { allowed: [...new Set(allowed)] } : null;
  }

  private hasHead(path: string): boolean {
    return this.routes.some((r) => r.method === 'HEAD' && r.path === path);
  }
}

function matchSegments(pattern: string[], parts: string[]): Record<string, string> | null {
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i];
    if (p.startsWith('*')) {
      if (i >= parts.length) return null;
      params[p.slice(1)] = parts.slice(i).map(decode).join('/');
      return params;
    }
    if (i >= parts.length) return null;
    if (p.startsWith(':')) {
      if (parts[i] === '') return null;
      params[p.slice(1)] = decode(parts[i]);
    } else if (p !== parts[i]) return null;
  }
  return parts.length === pattern.length ? params : null;
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new InvalidInputError('invalid_path', 'the URL path has a malformed percent-encoding');
  }
}
