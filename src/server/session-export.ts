import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import type { App } from '../app.js';
import { BUNDLE_ENTRY, buildBundle, type SessionBundle } from '../core/session-bundle.js';
import type { PublicKeyInfo } from '../core/signer.js';

/**
 * Builds the export document of a live session (throws NotFoundError before anything is
 * written if the session is unknown or expired). The seal key is the one that signed it: a
 * foreign key for an imported session, else this server's.
 */
export async function sessionBundle(app: App, sessionId: string): Promise<SessionBundle> {
  const s = await app.sessions.get(sessionId);
  const artifacts = await app.catalog.sessionArtifacts(sessionId, app.clock());
  const key: PublicKeyInfo | null = s.sealed
    ? ((await app.catalog.imports.sealKey(sessionId)) ?? app.signer.publicKey)
    : null;
  return buildBundle(s, artifacts, key, app.clock());
}

/**
 * Streams a session as a tar to `res` and ends it: first `cairn-export.json` (the session, the
 * key that signed its seal, the canonical manifest, every artifact record with its lineage),
 * then each artifact's bytes at `files/<name>` (latest version) or `versions/<N>/<name>`.
 * GNU tar lists and extracts it; `POST /v1/import` and `cairn verify FILE.tar` read it.
 *
 * Throws NotFoundError before writing anything if the session is unknown, so the caller's
 * error handling still answers 404. Sets status 200, `Content-Type: application/x-tar` and a
 * `Content-Disposition` attachment name. Once streaming has begun a failure (a blob gone, the
 * client disconnecting) destroys the response, so the receiver sees a truncated tar, never a
 * complete-looking wrong one. Used by `GET /v1/sessions/{sid}/export` and session share links.
 */
export async function streamSessionExport(
  app: App,
  sessionId: string,
  res: ServerResponse,
): Promise<void> {
  const bundle = await sessionBundle(app, sessionId);
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
  const pack = tar.pack();
  const piping = pipeline(pack, res);
  try {
    const json = Buffer.from(`${JSON.stringify(bundle, null, 2)}\n`);
    await addEntry(pack, BUNDLE_ENTRY, json.length, json);
    for (const a of bundle.artifacts)
      await addEntry(pack, a.path, a.size, await app.blobs.get(a.sha256));
    pack.finalize();
    await piping;
  } catch (err) {
    // A client that went away is not a server fault: nothing to report.
    const clientGone = res.destroyed;
    pack.destroy(err as Error);
    res.destroy();
    await piping.catch(() => undefined);
    if (!clientGone) throw err;
  }
}

/** Adds one entry and waits until tar-stream has taken all of its bytes. */
function addEntry(
  pack: tar.Pack,
  name: string,
  size: number,
  source: Readable | Buffer,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const entry = pack.entry({ name, size, mode: 0o644, mtime: new Date(0) }, (err) =>
      err ? reject(err) : resolve(),
    );
    if (Buffer.isBuffer(source)) entry.end(source);
    else pipeline(source, entry).catch(reject);
  });
}
