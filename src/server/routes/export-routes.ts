import type { Route } from '../router.js';
import { streamSessionExport } from '../session-export.js';
import { importSessionTar } from '../session-import.js';
import { sendJson } from '../respond.js';

/** Session export (a tar stream) and import (recreates a session from such a tar). */
export function bindExportRoutes(): Route[] {
  return [
    {
      method: 'GET',
      path: '/v1/sessions/:sid/export',
      access: 'read',
      summary: 'Export a session as a tar (cairn-export.json + files/<name>)',
      handler: (c) => streamSessionExport(c.app, c.params.sid, c.res),
    },
    {
      method: 'POST',
      path: '/v1/import',
      query: ['ttl'],
      access: 'write',
      summary:
        'Import a session export tar (verifies every hash, the digest and signature; ?ttl= sets its lifetime here)',
      handler: async (c) => {
        const ttlMs = c.query.duration('ttl');
        const result = await importSessionTar(c.app, c.req, (sid) => c.authorize('write', sid), {
          ttlMs,
        });
        sendJson(c.res, result.created ? 201 : 200, result);
      },
    },
  ];
}
