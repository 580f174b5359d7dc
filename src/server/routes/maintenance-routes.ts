import { InvalidInputError } from '../../lib/errors.js';
import { sendJson } from '../respond.js';
import type { Route } from '../router.js';

/** What a write to a response whose client left fails with. */
const CLIENT_GONE = new Set(['ERR_STREAM_PREMATURE_CLOSE', 'EPIPE', 'ECONNRESET']);

/** Admin maintenance of a running server: consistency check/repair and online backup. */
export function bindMaintenanceRoutes(): Route[] {
  return [
    {
      method: 'POST',
      path: '/v1/fsck',
      query: ['repair'],
      access: 'admin',
      summary:
        'Rehash every blob and check catalog rows and counts (?repair=true fixes what is safe)',
      handler: async (c) => {
        const repair = c.query.bool('repair') ?? false;
        sendJson(c.res, 200, await c.app.fsck.run({ repair }));
      },
    },
    {
      method: 'GET',
      path: '/v1/backup',
      query: ['format'],
      access: 'admin',
      summary:
        'Consistent online backup as a tar: logical (default) or ?format=sqlite (catalog file, blobs, seal key)',
      handler: async (c) => {
        const format = c.query.str('format') ?? 'logical';
        if (format !== 'logical' && format !== 'sqlite')
          throw new InvalidInputError(
            'invalid_format',
            `format '${format.slice(0, 40)}' is unknown; use logical (the default) or sqlite`,
          );
        if (format === 'logical') c.app.backups.checkLogical();
        c.res.writeHead(200, {
          'Content-Type': 'application/x-tar',
          'Content-Disposition': 'attachment; filename="cairn-backup.tar"',
          'Cache-Control': 'no-store',
          'X-Content-Type-Options': 'nosniff',
          'Content-Security-Policy': 'sandbox',
        });
        try {
          if (format === 'sqlite') await c.app.backups.writeSqliteCopy(c.res);
          else await c.app.backups.write(c.res);
        } catch (err) {
          // A client that went away (`cairn backup` interrupted, curl | head) is not a server
          // fault: nothing to log. Anything else still is.
          const code = (err as NodeJS.ErrnoException).code ?? '';
          if (!(c.res.destroyed && CLIENT_GONE.has(code))) throw err;
        }
      },
    },
  ];
}
