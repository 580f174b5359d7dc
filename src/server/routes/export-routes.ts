import type { Route } from '../router.js';
import { streamSessionExport } from '../session-export.js';
import { importSessionTar } from '../session-import.js';
import { INLINE_BLOB_MAX } from '../../app.js';
import { UPLOAD_BUFFER_BYTES } from '../../lib/memory-budget.js';
import { sendJson } from '../respond.js';
import { admitToMemory, admitWhole } from '../upload-admission.js';

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
        const memory = c.app.uploadMemory;
        // Its files stream through the blob store as a push does; its document is held whole.
        admitToMemory(memory, c.res, INLINE_BLOB_MAX + UPLOAD_BUFFER_BYTES, 'import');
        const result = await importSessionTar(c.app, c.req, (sid) => c.authorize('write', sid), {
          ttlMs,
          reserve: (bytes) => admitWhole(memory, c.res, bytes, 'import document'),
        });
        sendJson(c.res, result.created ? 201 : 200, result);
      },
    },
  ];
}
