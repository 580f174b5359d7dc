import type { ServerResponse } from 'node:http';
import type { App } from '../app.js';

/**
 * Streams a session as an export tar (see ExportService) to `res` and ends it. Throws
 * NotFoundError before writing anything if the session is unknown, so the caller's error
 * handling still answers 404. Sets status 200, `Content-Type: application/x-tar` and a
 * `Content-Disposition` attachment name. Once streaming has begun a failure destroys the
 * response (a truncated tar). Used by `GET /v1/sessions/{sid}/export` and session share links.
 */
export async function streamSessionExport(
  app: App,
  sessionId: string,
  res: ServerResponse,
): Promise<void> {
  const bundle = await app.exports.bundle(sessionId);
  res.writeHead(200, {
    'Content-Type': 'application/x-tar',
    'Content-Disposition': `attachment; filename="${sessionId.replace(/[^A-Za-z0-9._-]/g, '_')}.tar"`,
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    'Content-Security-Policy': 'sandbox',
  });
  if (res.req?.method === 'HEAD') {
    res.end();
    return;
  }
  await app.exports.writeTar(bundle, res);
}
