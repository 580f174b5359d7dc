import { randomBytes } from 'node:crypto';
import { createReadStream, existsSync, promises as fsp } from 'node:fs';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import type { BlobStore } from '../blobs/blob-store.js';
import type { Catalog } from '../catalog/catalog.js';
import type { BackupSummary } from '../lib/backup-format.js';
import type { ArtifactService } from './artifact-service.js';
import { addTarEntry } from './tar-entries.js';
import { writeBackupTar } from './backup-tar.js';
import { dumpOf, readStore } from './store-dump.js';

const PAGE = 500;

/** What {@link BackupService} reads. */
export interface BackupServiceOptions {
  catalog: Catalog;
  blobs: BlobStore;
  /** Holds blob deletions while a backup runs. */
  artifacts: ArtifactService;
  /** Holds seal.key and admin.token, and tmp/ for the catalog snapshot. */
  dataDir: string;
  clock: () => number;
}

/** Consistent online backups of a running server. */
export class BackupService {
  constructor(private readonly o: BackupServiceOptions) {}

  /**
   * Throws InvalidInputError(`dump_unsupported`) if the catalog cannot be backed up logically
   * (ask before answering, so the refusal is a 400, not a stream cut short).
   */
  checkLogical(): void {
    dumpOf(this.o.catalog);
  }

  /**
   * Streams a logical backup (format `cairn-backup-2`, see readStore and writeBackupTar) to
   * `out`: one consistent snapshot of the catalog through its dump interface, every blob it
   * references through the blob store, the seal key and admin token file. Blob deletions wait
   * while it runs, so every referenced blob is there to copy. Rejects (after destroying `out`)
   * if anything fails; the stream then lacks its closing `end.json`.
   */
  async write(out: Writable): Promise<void> {
    const o = this.o;
    const release = o.artifacts.holdBlobDeletes();
    try {
      await writeBackupTar(readStore(o, o.clock()), out);
    } finally {
      await release();
    }
  }

  /**
   * Streams a SQLite-file backup (format `cairn-backup-1`, what `cairn backup --sqlite`
   * asks for) as a tar to `out`: the blobs referenced by an online snapshot of the
   * catalog (`blobs/ab/cd/<sha256>`), then `catalog.db` (the snapshot), `seal.key`,
   * `admin.token` if present, and last `backup.json` (counts; a stream without it is
   * incomplete). The data dir it describes is one a fresh `cairn serve --data` starts from.
   * Blob deletions wait while it runs, so every referenced blob is there to copy. Rejects (after
   * destroying `out`) if anything fails.
   */
  async writeSqliteCopy(out: Writable): Promise<BackupSummary> {
    const o = this.o;
    const pack = tar.pack();
    const piping = pipeline(pack, out);
    // Handled at once: `out` may fail (a client gone) while an entry is being awaited, and an
    // unhandled rejection would end the process.
    piping.catch(() => undefined);
    const dest = join(o.dataDir, 'tmp', `backup-${randomBytes(8).toString('hex')}.db`);
    const release = o.artifacts.holdBlobDeletes();
    const summary: BackupSummary = {
      format: 'cairn-backup-1',
      created_at: new Date(o.clock()).toISOString(),
      blobs: 0,
      bytes: 0,
      files: [],
    };
    try {
      const snap = await o.catalog.audit.snapshot(dest);
      try {
        for (let after = ''; ;) {
          const page = await snap.referencedBlobs(after, PAGE);
          for (const b of page) {
            const name = `blobs/${b.sha256.slice(0, 2)}/${b.sha256.slice(2, 4)}/${b.sha256}`;
            await addTarEntry(pack, name, b.size, await o.blobs.get(b.sha256));
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
        ['seal.key', join(o.dataDir, 'seal.key')],
        ['admin.token', join(o.dataDir, 'admin.token')],
      ]) {
        if (!existsSync(path)) continue;
        const { size } = await fsp.stat(path);
        await addTarEntry(pack, name, size, createReadStream(path), 0o600);
        summary.files.push(name);
      }
      const json = Buffer.from(JSON.stringify(summary, null, 2));
      await addTarEntry(pack, 'backup.json', json.length, json, 0o600);
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
}
