import { sendJson } from '../respond.js';
import type { Route } from '../router.js';

/** Routes for retention: deleting open sessions, pinning, garbage collection. */
export function bindRetentionRoutes(): Route[] {
  return [
    {
      method: 'DELETE',
      path: '/v1/sessions/:sid',
      access: 'write',
      summary: 'Delete an open session with all its artifacts (409 if sealed)',
      handler: async (c) => sendJson(c.res, 200, await c.app.retention.deleteSession(c.params.sid)),
    },
    {
      method: 'PUT',
      path: '/v1/sessions/:sid/pin',
      access: 'write',
      summary: 'Pin a session: it and its artifacts never expire while pinned',
      handler: async (c) =>
        sendJson(c.res, 200, await c.app.sessions.update(c.params.sid, { pinned: true })),
    },
    {
      method: 'DELETE',
      path: '/v1/sessions/:sid/pin',
      access: 'write',
      summary: 'Unpin a session: its TTLs apply again (what is past them vanishes at once)',
      handler: async (c) =>
        sendJson(c.res, 200, await c.app.sessions.update(c.params.sid, { pinned: false })),
    },
    {
      method: 'GET',
      path: '/v1/gc',
      access: 'admin',
      summary: 'Dry run: what garbage collection would remove and the bytes it would free',
      handler: async (c) => {
        sendJson(c.res, 200, await c.app.retention.plan());
      },
    },
    {
      method: 'POST',
      path: '/v1/gc',
      query: ['dry_run'],
      access: 'admin',
      summary: 'Run garbage collection now (?dry_run=true only reports)',
      handler: async (c) => {
        const q = c.query;
        const report = q.bool('dry_run')
          ? await c.app.retention.plan()
          : await c.app.retention.sweep();
        sendJson(c.res, 200, report);
      },
    },
  ];
}
