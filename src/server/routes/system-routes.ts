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
      summary: 'Liveness and readiness',
      handler: async (c) => {
        await c.app.status.ready();
        sendJson(c.res, 200, { status: 'ok' });
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
