import { DUMP_KINDS } from '../lib/dump-kinds.js';
import { existsSync, promises as fsp } from 'node:fs';
import { join } from 'node:path';
import type { DumpKind, DumpWriter } from '../catalog/dump-catalog.js';
import type { LogicalManifest } from '../lib/backup-format.js';
import { ConflictError, DigestMismatchError, InvalidInputError } from '../lib/errors.js';
import {
  CatalogDigest,
  describeSnapshot,
  dumpOf,
  readPages,
  type DumpItem,
  type StoreParts,
} from './store-dump.js';

/**
 * The file a restore or migrate keeps in the target data dir while it writes: its presence
 * means a run stopped midway. `cairn serve` refuses such a directory; running the same
 * restore or migrate again finishes it.
 */
export const PARTIAL_MARKER = 'restore.partial';

/** What {@link restoreStore} did. */
export interface RestoreReport {
  /** `restored`: the target was empty and now holds the store; `already_present`: it held it. */
  status: 'restored' | 'already_present';
  /** A previous run into this target had stopped midway (its marker was there). */
  resumed: boolean;
  counts: Record<DumpKind, number>;
  /** Blobs copied now, and their bytes (those the target held already are skipped). */
  blobsCopied: number;
  bytesCopied: number;
}

const bad = (what: string) => new InvalidInputError('invalid_backup', what);

/**
 * Writes the store `items` describe (see readStore, readBackupTar) into `to`, which must be
 * empty or hold exactly that store already (then nothing is written: `already_present`).
 * Otherwise throws ConflictError(`target_not_empty`), before writing anything.
 *
 * Order, so a crash at any point is detected and a rerun finishes the job: the marker
 * {@link PARTIAL_MARKER}; the data dir files; the blobs (those already present are skipped,
 * each new one verified against its sha256 by the blob store); the catalog in one atomic
 * restore, committed only once the stream's end arrived with the counts and digest its
 * manifest announced; a check that the target now dumps exactly those rows, every blob
 * present; then the marker goes. Nothing is duplicated: the catalog is all or
 * nothing and blobs are content-addressed.
 */
export async function restoreStore(
  items: AsyncIterable<DumpItem>,
  to: StoreParts,
  now: number,
): Promise<RestoreReport> {
  const it = items[Symbol.asyncIterator]();
  const first = await it.next();
  if (first.done || first.value.type !== 'manifest') throw bad('the backup has no manifest');
  const manifest = first.value.manifest;
  const marker = join(to.dataDir, PARTIAL_MARKER);
  const resumed = existsSync(marker);
  const report: RestoreReport = {
    status: 'restored',
    resumed,
    counts: manifest.counts,
    blobsCopied: 0,
    bytesCopied: 0,
  };
  if (await holdsContent(to)) {
    await it.return?.(undefined);
    await checkSameStore(to, manifest, now);
    await fsp.rm(marker, { force: true });
    return { ...report, status: 'already_present' };
  }
  await writeFileDurably(marker, `${JSON.stringify(manifest)}\n`);
  const digest = new CatalogDigest();
  const seen = Object.fromEntries(DUMP_KINDS.map((k) => [k, 0])) as Record<DumpKind, number>;
  let writer: DumpWriter | null = null;
  const commits = new CommitWindow(256);
  try {
    for (let next = await it.next(); !next.done; next = await it.next()) {
      const item = next.value;
      if (item.type === 'file') {
        await writeFileDurably(join(to.dataDir, item.name), item.data);
      } else if (item.type === 'blob') {
        if (await to.blobs.has(item.sha256)) {
          item.body.resume();
          continue;
        }
        const blob = await to.blobs
          .stage(item.body, { expectedSha256: item.sha256 })
          .catch((err: unknown) => {
            if (!(err instanceof DigestMismatchError)) throw err;
            throw bad(`blob ${item.sha256} of the backup is corrupted: its bytes hash otherwise`);
          });
        if (blob.size !== item.size) {
          await blob.discard();
          throw bad(`blob ${item.sha256} has ${blob.size} B, not ${item.size}`);
        }
        // Many commits in flight, so small blobs share group commits; each staged blob is
        // discarded once committed (it may hold its bytes in memory). Blobs a crash leaves
        // before the catalog's commit are what the next run skips copying.
        await commits.add(blob.commit().finally(() => blob.discard()));
        report.blobsCopied++;
        report.bytesCopied += blob.size;
      } else if (item.type === 'rows') {
        await commits.drain();
        writer ??= await dumpOf(to.catalog).restore();
        await writer.write(item.kind, item.rows);
        digest.add(item.kind, item.rows);
        seen[item.kind] += item.rows.length;
      } else if (item.type === 'end') {
        await commits.drain();
        const d = digest.hex();
        if (d !== manifest.catalog_sha256 || DUMP_KINDS.some((k) => seen[k] !== manifest.counts[k]))
          throw bad(
            'the catalog rows that arrived differ from what the backup announced; it is damaged',
          );
        writer ??= await dumpOf(to.catalog).restore();
        await writer.commit();
        writer = null;
        // The target must dump what came in, row for row; else the marker stays (serve refuses).
        await checkSameStore(to, manifest, now).catch((err: unknown) => {
          throw new Error(
            `the target does not read back what was restored into it (${(err as Error).message}); its catalog's dump is faulty, and ${marker} stays`,
          );
        });
        await fsp.rm(marker);
        return report;
      } else throw bad('the backup holds a second manifest');
    }
    throw bad('the backup ends early (no end.json)');
  } finally {
    await commits.drain().catch(() => undefined);
    await writer?.abort();
    // Ends the source too (its finally releases the snapshot: a PostgreSQL dump reader holds a
    // pooled connection, and the CLI would never exit while it is checked out).
    await it.return?.(undefined);
  }
}

/** Blob commits in flight, at most `max`: `add` waits for all of them once that many are. */
class CommitWindow {
  private pending: Promise<unknown>[] = [];

  constructor(private readonly max: number) {}

  async add(commit: Promise<unknown>): Promise<void> {
    commit.catch(() => undefined); // awaited in drain; not unhandled meanwhile
    this.pending.push(commit);
    if (this.pending.length >= this.max) await this.drain();
  }

  /** Waits for every commit in flight; rejects with the first failure. */
  async drain(): Promise<void> {
    const all = this.pending.splice(0);
    await Promise.all(all);
  }
}

/** Whether the target's catalog holds any row. */
async function holdsContent(to: StoreParts): Promise<boolean> {
  const reader = await dumpOf(to.catalog).open();
  try {
    return Object.values(await reader.counts()).some((n) => n > 0);
  } finally {
    await reader.close();
  }
}

/**
 * Resolves if `to` holds exactly the store `manifest` describes (same catalog rows, every blob
 * present); else throws ConflictError(`target_not_empty`).
 */
async function checkSameStore(to: StoreParts, manifest: LogicalManifest, now: number) {
  const reader = await dumpOf(to.catalog).open();
  try {
    const here = await describeSnapshot(reader, [], now);
    const c = here.counts;
    if (here.catalog_sha256 !== manifest.catalog_sha256)
      throw new ConflictError(
        'target_not_empty',
        `the target already holds another store (${c.sessions} session(s), ${c.artifacts} artifact(s), ${c.tokens} token(s)); give an empty catalog and data dir`,
      );
    for await (const { rows } of readPages(reader, ['blobs']))
      for (const b of rows as { sha256: string }[])
        if (!(await to.blobs.has(b.sha256)))
          throw new ConflictError(
            'target_not_empty',
            `the target's catalog is this store's but blob ${b.sha256} is missing; run cairn fsck on it`,
          );
  } finally {
    await reader.close();
  }
}

/** Writes a file readable only by its owner: temp file, fsync, rename, directory fsync. */
async function writeFileDurably(path: string, data: string | Buffer): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  const fh = await fsp.open(tmp, 'w', 0o600);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await fsp.rename(tmp, path);
  const dir = await fsp.open(join(path, '..'), 'r');
  await dir.sync().finally(() => dir.close());
}
