import http from 'node:http';
import type { App } from '../app.js';
import { ReadScope } from '../core/read-scope.js';
import {
  BusyError,
  CairnError,
  InvalidInputError,
  NotFoundError,
  UnauthorizedError,
} from '../lib/errors.js';
import { pooledRandomBytes } from '../lib/random-pool.js';
import { guardBodyIdle } from './body-timeout.js';
import { closeServer, listenOn } from './listen.js';
import { RequestTracker } from './request-tracker.js';
import { bindProtocolEdges, checkFraming } from './protocol-edges.js';
import { observeRequest } from './request-metrics.js';
import { sendError, sendJson } from './respond.js';
import { allRoutes } from './routes/index.js';
import { Router, type Ctx } from './router.js';
import { bearer, Query } from './request.js';

/** A listening Cairn HTTP server. */
export interface RunningServer {
  server: http.Server;
  /** Base URL, e.g. http://127.0.0.1:7070 */
  url: string;
  /**
   * Stops accepting and ends idle keep-alive connections; requests in flight get the configured
   * grace period (`shutdownGraceMs`), then connections are cut, except writes whose commit may
   * be underway, which end once answered. Requests arriving meanwhile on open connections are
   * answered 503 `server_stopping`.
   */
  close(): Promise<void>;
}

/** Builds the request handler for `app` over the full route table. */
export function createHandler(app: App, router = new Router(allRoutes())) {
  const log = (err: unknown) => {
    const e = err as Error;
    process.stderr.write(
      `${JSON.stringify({ level: 'error', msg: e?.message, stack: e?.stack, cause: (e as { cause?: Error })?.cause?.message })}\n`,
    );
  };
  return async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const started = process.hrtime.bigint();
    const requestId =
      validRequestId(req.headers['x-request-id']) ?? pooledRandomBytes(8).toString('hex');
    res.setHeader('X-Request-Id', requestId);
    let routeKey = 'unmatched';
    // Registered before the handler runs: a streamed answer may close before it returns.
    // 'close', not 'finish': streams the client ended (SSE, aborted uploads) count too.
    res.once('close', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      // 499 (nginx's "client closed request") when the client left before any answer.
      const status = res.headersSent ? res.statusCode : 499;
      observeRequest(app.metrics, req, status, routeKey, seconds);
      if (app.config.logRequests) {
        process.stderr.write(
          `${JSON.stringify({ level: 'info', id: requestId, method: req.method, path: loggedPath(req.url), status, ms: Math.round(seconds * 10_000) / 10 })}\n`,
        );
      }
    });
    guardBodyIdle(req, res, app.config.bodyIdleTimeoutMs);
    try {
      checkFraming(req);
      const url = parseTarget(req.url ?? '/');
      // Route on the path as sent: URL parsing would resolve `..` and `%2e%2e` segments away,
      // and such a name must be refused, not silently rewritten.
      const [rawPath, rawQuery = ''] = (req.url ?? '/').split('?', 2);
      // URLSearchParams turns malformed escapes and invalid UTF-8 into U+FFFD silently: refuse
      // them instead, so no metadata value or filter is stored or run other than as sent.
      strictQuery(rawQuery);
      const m = router.match(req.method ?? 'GET', rawPath);
      if (!m)
        throw new NotFoundError(
          `no route for ${rawPath.slice(0, 100)}; the API is under /v1 (see /openapi.json)`,
        );
      if ('allowed' in m) {
        throw new CairnError(
          'method_not_allowed',
          405,
          `${req.method} is not allowed here; use ${m.allowed.join(', ')}`,
          {
            details: { allowed: m.allowed },
          },
        );
      }
      routeKey = `${m.route.method} ${m.route.path}`;
      const principal =
        m.route.access === 'public' ? null : await app.tokens.authenticate(bearer(req));
      const route = m.route;
      const authorize: Ctx['authorize'] = (scope, session) => {
        if (!principal) throw new UnauthorizedError();
        app.tokens.authorize(principal, scope, session);
      };
      if (route.access !== 'public') authorize(route.access, m.params.sid);
      const ctx: Ctx = {
        app,
        req,
        res,
        url,
        params: m.params,
        principal,
        requestId,
        authorize,
        reads: ReadScope.of(principal),
        // After the token is checked; an unknown query parameter is a 400 before the handler.
        query: new Query(url.searchParams, route.query ?? [], route.meta),
      };
      await route.handler(ctx);
    } catch (err) {
      sendError(req, res, err, log);
    }
  };
}

/** Starts serving `app` on its configured host and port. */
export async function startServer(app: App): Promise<RunningServer> {
  const handler = createHandler(app);
  const tracker = new RequestTracker();
  const { maxHeaderBytes, headersTimeoutMs } = app.config;
  const server = http.createServer(
    {
      maxHeaderSize: maxHeaderBytes,
      // Uploads may take hours: no total request time, but slow heads and stalled bodies are cut.
      requestTimeout: 0,
      headersTimeout: headersTimeoutMs,
      // Checked in the handler (checkFraming), which answers with the JSON envelope; node's own
      // answer is a bare 400.
      requireHostHeader: false,
      connectionsCheckingInterval: Math.max(100, Math.min(30_000, headersTimeoutMs / 4)),
    },
    (req, res) => {
      if (tracker.stopping) refuseWhileStopping(req, res);
      else tracker.track(req, handler(req, res));
    },
  );
  tracker.attach(server);
  server.keepAliveTimeout = 65_000;
  bindProtocolEdges(server, { maxHeaderBytes, headersTimeoutMs });
  const url = await listenOn(server, app.config.port, app.config.host);
  // Expired things are removed in the background while the server runs.
  app.sweeper.start();
  return {
    server,
    url,
    close: async () => {
      // Waiters and event streams answer and end now, or server.close() would wait for them.
      app.events.shutdown();
      await Promise.all([
        app.sweeper.stop(),
        closeServer(server, tracker, app.config.shutdownGraceMs),
      ]);
    },
  };
}

/**
 * A request that arrived on an open keep-alive connection after the shutdown began: 503
 * `server_stopping` with `Retry-After`, and the connection closes after the answer.
 */
function refuseWhileStopping(req: http.IncomingMessage, res: http.ServerResponse): void {
  res.setHeader('Connection', 'close');
  sendError(
    req,
    res,
    new BusyError(
      'server_stopping',
      'the server is shutting down and takes no new requests; retry (on another node, or once it is back)',
    ),
    () => undefined,
  );
}

/** Throws `invalid_query` if a query component has a malformed escape or invalid UTF-8. */
function strictQuery(raw: string): void {
  if (!raw.includes('%')) return;
  for (const pair of raw.split('&')) {
    const eq = pair.indexOf('=');
    const [key, value] = eq < 0 ? [pair, ''] : [pair.slice(0, eq), pair.slice(eq + 1)];
    let name = '';
    try {
      name = decodeURIComponent(key.replace(/\+/g, ' '));
      decodeURIComponent(value.replace(/\+/g, ' '));
    } catch {
      // The code names the parameter where the routes would (invalid_cursor, invalid_meta, …).
      const code = name.startsWith('meta.')
        ? 'meta'
        : ['cursor', 'where', 'ttl', 'since', 'until'].includes(name)
          ? name
          : 'query';
      throw new InvalidInputError(
        `invalid_${code}`,
        `query parameter '${name.slice(0, 40) || '?'}' has a malformed %-escape or invalid UTF-8; encode values as UTF-8`,
      );
    }
  }
}

function validRequestId(v: string | string[] | undefined): string | undefined {
  return typeof v === 'string' && /^[A-Za-z0-9._-]{1,64}$/.test(v) ? v : undefined;
}

export { sendJson };

/**
 * The request path for the access log, without the query and with share-link secrets
 * (`/s/<token>`) masked: a log line must never be a working credential.
 */
export function loggedPath(url: string | undefined): string {
  return (url ?? '/').split('?')[0].replace(/^\/s\/[^/]+/, '/s/…');
}

/**
 * The request target as a URL. Only origin-form paths (`/v1/…`) are served; a target that is
 * not one (`//`, `//a:b`, an absolute URL with a bad port) is a 400, not a parse failure.
 */
function parseTarget(target: string): URL {
  try {
    return new URL(target, 'http://localhost');
  } catch {
    throw new InvalidInputError(
      'invalid_request',
      'the request target is not a valid path; send a path such as /v1/artifacts',
    );
  }
}
