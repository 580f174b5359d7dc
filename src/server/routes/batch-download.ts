import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import type { ArtifactRecord } from '../../core/types.js';
import type { Ctx } from '../router.js';

/** Artifacts read per catalog query while streaming. */
const PAGE = 1000;

/**
 * `GET /v1/sessions/{sid}/batch`: the latest version of every artifact of a session as one tar
 * stream, in the batch push's format (entry path = artifact name; PAX `CAIRN.id`, `CAIRN.sha256`,
 * `CAIRN.type`, `CAIRN.meta.KEY`), so a client verifies each file as it extracts it and the
 * tar can be pushed into another session as it is. 404 before anything is sent for an unknown
 * session; a failure once streaming has begun cuts the tar short (the client sees a truncated
 * tar, never a complete-looking wrong one).
 */
export async function streamLatestFiles(c: Ctx): Promise<void> {
  const session = await c.app.sessions.get(c.params.sid);
  c.res.writeHead(200, {
    'Content-Type': 'application/x-tar',
    'Content-Disposition': `attachment; filename="${session.id.replace(/[^A-Za-z0-9._-]/g, '_')}-files.tar"`,
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    'Content-Security-Policy': 'sandbox',
  });
  const pack = tar.pack();
  const piping = pipeline(pack, c.res);
  // Observed at once: the receiver may go away while a row or blob is being read, and a
  // rejection nobody awaits yet would be unhandled. It is still awaited (and thrown) below.
  piping.catch(() => undefined);
  try {
    let cursor: string | undefined;
    do {
      const page = await c.app.artifacts.query({
        session: session.id,
        latest: true,
        limit: PAGE,
        cursor,
      });
      for (const rec of page.items) await addEntry(pack, rec, await c.app.artifacts.open(rec));
      cursor = page.next_cursor ?? undefined;
    } while (cursor);
    pack.finalize();
    await piping;
  } catch (err) {
    const clientGone = c.res.destroyed;
    pack.destroy(err as Error);
    c.res.destroy();
    await piping.catch(() => undefined);
    if (!clientGone) throw err;
  }
}

/** Adds one artifact and waits until tar-stream has taken all of its bytes. */
function addEntry(pack: tar.Pack, rec: ArtifactRecord, source: Readable): Promise<void> {
  const pax: Record<string, string> = {
    'CAIRN.id': rec.id,
    'CAIRN.sha256': rec.sha256,
    'CAIRN.type': rec.content_type,
  };
  for (const [k, v] of Object.entries(rec.meta)) pax[`CAIRN.meta.${k}`] = v;
  return new Promise<void>((resolve, reject) => {
    const entry = pack.entry(
      { name: rec.name, size: rec.size, mode: 0o644, mtime: new Date(rec.created_at), pax },
      (err) => (err ? reject(err) : resolve()),
    );
    pipeline(source, entry).catch(reject);
  });
}
