import { randomBytes } from 'node:crypto';
import { createReadStream, existsSync, promises as fsp } from 'node:fs';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import type { App } from '../app.js';
import type { BackupSummary } from '../lib/backup-format.js';

const PAGE = 500;

/**
 * Streams a consistent online backup of `app` as a tar to `out`: the blobs referenced by an
 * online SQLite snapshot of the catalog (`blobs/ab/cd/<sha256>`), then `catalog.db` (the
 * snapshot), `seal.key`, `admin.token` if present, and last `backup.json` (counts; a stream
 * without it is incomplete). The data dir it describes is one a fresh `cairn serve --data`
 * starts from. Blob deletions wait while it runs, so every referenced blob is there to copy.
 */
export async function writeBackupTar(app: App, out: Writable): Promise<BackupSummary> {
  const pack = tar.pack();
  const piping = pipeline(pack, out);
  const dest = join(app.config.dataDir, 'tmp', `backup-${randomBytes(8).toString('hex')}.db`);
  const release = app.artifacts.holdBlobDeletes();
  const summary: BackupSummary = {
    format: 'cairn-backup-1',
    created_at: new Date(app.clock()).toISOString(),
    blobs: 0,
    bytes: 0,
    files: [],
  };
  try {
    const snap = await app.catalog.audit.snapshot(dest);
    try {
      for (let after = ''; ;) {
        const page = await snap.referencedBlobs(after, PAGE);
        for (const b of page) {
          const name = `blobs/${b.sha256.slice(0, 2)}/${b.sha256.slice(2, 4)}/${b.sha256}`;
          await addStream(pack, name, b.size, await app.blobs.get(b.sha256));
          summary.blobs++;
          summary.bytes += b.size;
        }
        if (page.length < PAGE) break;
        after = page[page.length - 1].sha256;
      }
    } finally {
      await snap.close();
    }
    for (const [name, path] of [
      ['catalog.db', dest],
      ['seal.key', join(app.config.dataDir, 'seal.key')],
      ['admin.token', join(app.config.dataDir, 'admin.token')],
    ]) {
      if (!existsSync(path)) continue;
      const { size } = await fsp.stat(path);
      await addStream(pack, name, size, createReadStream(path), 0o600);
      summary.files.push(name);
    }
    const json = Buffer.from(JSON.stringify(summary, null, 2));
    await addStream(pack, 'backup.json', json.length, null, 0o600, json);
    pack.finalize();
    await piping;
    return summary;
  } catch (err) {
    pack.destroy(err as Error);
    await piping.catch(() => undefined);
    throw err;
  } finally {
    await release();
    await fsp.rm(dest, { force: true });
  }
}

/** Adds one entry and waits until tar-stream has taken all of its bytes. */
function addStream(
  pack: tar.Pack,
  name: string,
  size: number,
  source: Readable | null,
  mode = 0o644,
  buffer?: Buffer,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const entry = pack.entry({ name, size, mode, mtime: new Date(0) }, (err) =>
      err ? reject(err) : resolve(),
    );
    if (buffer) {
      entry.end(buffer);
      return;
    }
    pipeline(source as Readable, entry).catch(reject);
  });
}
