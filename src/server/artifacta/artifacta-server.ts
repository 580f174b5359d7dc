import http from 'node:http';
import type { App } from '../../app.js';
import {
  CairnError,
  InvalidInputError,
  NotFoundError,
  UnauthorizedError,
} from '../../lib/errors.js';
import { guardBodyIdle } from '../body-timeout.js';
import { ReadScope } from '../../core/read-scope.js';
import { bearer, Query } from '../request.js';
import { Router, type Ctx } from '../router.js';
import type { RunningServer } from '../http-server.js';
import { closeServer, listenOn } from '../listen.js';
import { RequestTracker } from '../request-tracker.js';
import { sendArtifactaError } from './artifacta-errors.js';
import { bindArtifactaRoutes } from './routes/index.js';
import { takeRequest } from './rate-limit.js';
import { countRequest } from './usage.js';

/**
 * The request handler of the Artifacta-compatible listener: its route table at the root,
 * tokens checked exactly as on Cairn's own routes (the same TokenService, scopes and session
 * globs), errors in Artifacta's envelope.
 */
export function createArtifactaHandler(app: App, router = new Router(bindArtifactaRoutes())) {
  const log = (err: unknown) => {
    const e = err as Error;
    process.stderr.write(
      `${JSON.stringify({ level: 'error', msg: e?.message, stack: e?.stack, listener: 'artifacta' })}\n`,
    );
  };
  return async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    // A stalled upload body is cut as on Cairn's own listener.
    guardBodyIdle(req, res, app.config.bodyIdleTimeoutMs);
    try {
      const [rawPath] = (req.url ?? '/').split('?', 1);
      let url: URL;
      try {
        url = new URL(req.url ?? '/', 'http://localhost');
      } catch {
        throw new InvalidInputError('invalid_request', 'the request target is not a valid path');
      }
      const m = router.match(req.method ?? 'GET', rawPath);
      if (!m)
        throw new NotFoundError(
          `no route for ${rawPath.slice(0, 100)}; the API is under /v1`,
          'route_not_found',
        );
      if ('allowed' in m)
        throw new CairnError(
          'method_not_allowed',
          405,
          `${req.method} is not allowed here; use ${m.allowed.join(', ')}`,
        );
      const route = m.route;
      const principal = route.access === 'public' ? null : await authenticate(app, bearer(req));
      const authorize: Ctx['authorize'] = (scope, session) => {
        if (!principal) throw new UnauthorizedError();
        app.tokens.authorize(principal, scope, session);
      };
      if (route.access !== 'public') authorize(route.access, m.params.sid);
      if (principal) {
        takeRequest(app, principal.tokenId);
        countRequest(app, principal.tokenId);
      }
      await route.handler({
        app,
        req,
        res,
        url,
        params: m.params,
        principal,
        requestId: '',
        authorize,
        reads: ReadScope.of(principal),
        query: new Query(url.searchParams, route.query ?? [], route.meta),
      });
    } catch (err) {
      sendArtifactaError(req, res, err, log);
    }
  };
}

/** Parses `HOST:PORT` (`[::1]:8080`, `0.0.0.0:0`); throws `invalid_listen`. */
export function parseListen(text: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535)
    throw new InvalidInputError(
      'invalid_listen',
      `--artifacta-listen must be HOST:PORT, e.g. 127.0.0.1:7071, not '${text.slice(0, 60)}'`,
    );
  return { host: m[1] ?? m[2], port };
}

/** Starts the Artifacta-compatible listener on `listen` (`HOST:PORT`). */
export async function startArtifactaServer(app: App, listen: string): Promise<RunningServer> {
  const { host, port } = parseListen(listen);
  const handler = createArtifactaHandler(app);
  const tracker = new RequestTracker();
  const server = http.createServer(
    {
      maxHeaderSize: app.config.maxHeaderBytes,
      requestTimeout: 0,
      headersTimeout: app.config.headersTimeoutMs,
    },
    (req, res) => tracker.track(req, handler(req, res)),
  );
  tracker.attach(server);
  server.keepAliveTimeout = 65_000;
  return {
    server,
    url: await listenOn(server, port, host),
    close: () => closeServer(server, tracker, app.config.shutdownGraceMs),
  };
}

/** The caller's principal; a bad key's message speaks of the clients' own setting. */
async function authenticate(app: App, key: string | undefined) {
  try {
    return await app.tokens.authenticate(key);
  } catch (err) {
    if (err instanceof UnauthorizedError)
      throw new UnauthorizedError(
        key
          ? 'the API key is not valid (unknown or revoked); check ARTIFACTA_API_KEY, or mint one with `cairn token create --artifacta`'
          : 'an API key is required: send Authorization: Bearer ak_live_… (ARTIFACTA_API_KEY)',
      );
    throw err;
  }
}
