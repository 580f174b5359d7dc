import { sendJson } from '../respond.js';
import type { Route } from '../router.js';

/** Health and keys. */
export function bindSystemRoutes(): Route[] {
  return [
    {
      method: 'GET',
      path: '/healthz',
      query: 'any',
      access: 'public',
      summary: 'Liveness and readiness: catalog and blob store reachable (503: which is down)',
      handler: async (c) => {
        const h = await c.app.status.health();
        const stores = { catalog: h.catalog, blobs: h.blobs };
        if (h.ok) return sendJson(c.res, 200, { status: 'ok', ok: true, ...stores });
        // A load balancer takes this node out; the envelope says why, as every error does.
        sendJson(
          c.res,
          503,
          {
            status: 'unavailable',
            ok: false,
            ...stores,
            error: {
              code: 'unavailable',
              message: `${h.detail ?? ''}; this node answers 503 until it is back`,
            },
          },
          { 'Retry-After': '5' },
        );
      },
    },
    {
      method: 'GET',
      path: '/v1/keys',
      access: 'read',
      summary: "The server's public seal key(s)",
      handler: async (c) => sendJson(c.res, 200, { keys: [c.app.signer.publicKey] }),
    },
  ];
}
