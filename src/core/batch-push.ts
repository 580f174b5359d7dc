import type { Readable } from 'node:stream';
import mime from 'mime';
import type { BlobStore, StagedBlob } from '../blobs/blob-store.js';
import type { Catalog, NewArtifact } from '../catalog/catalog.js';
import { CairnError, InvalidInputError, SessionSealedError } from '../lib/errors.js';
import { newId } from '../lib/ids.js';
import type { PushResult } from './artifact-service.js';
import { leaseBlobs, MARK_STALE_MS } from './blob-leases.js';
import type { PendingCleanups } from './pending-cleanups.js';
import { checkContentType } from './media-type.js';
import { artifactRecord } from './records.js';
import type { ArtifactRecord } from './types.js';
import {
  printable,
  validateArtifactId,
  validateMeta,
  validateName,
  validateSessionId,
  type Meta,
} from './validate.js';

/** Most entries one batch may hold (small entries are buffered until the commit: ≤ 64 MiB). */
export const MAX_BATCH_ENTRIES = 1000;

/** One artifact of a batch: its name, what it carries besides the bytes, and the bytes. */
export interface BatchEntry {
  name: string;
  /** Explicit content type; else looked up from the name. */
  contentType?: string;
  /** Metadata of this entry, over the batch's common metadata. */
  meta?: Meta;
  /** Announced sha256 (hex) of the bytes, verified. */
  expectedSha256?: string;
  /** The bytes, consumed before the next entry is asked for. */
  source: Readable;
}

/** What applies to every entry of a batch. */
export interface BatchInput {
  session: string;
  /** Metadata every entry gets (an entry's own keys win). */
  meta?: Meta;
  /** Time to live in ms. */
  ttlMs?: number;
  derivedFrom?: string[];
  /** The pushing token's session glob: `derivedFrom` may only name artifacts it can read. */
  readGlob?: string;
}

/**
 * An entry received and checked, its bytes staged: what its row needs, not the entry itself
 * (its source may hold what carried it, a tar header with all its PAX records, until the end).
 */
interface Staged {
  name: string;
  contentType?: string;
  meta: Meta;
  blob: StagedBlob;
}

/** What {@link pushBatch} needs of the app. */
export interface BatchDeps {
  catalog: Catalog;
  blobs: BlobStore;
  clock: () => number;
  /** Age after which a collection mark counts as a dead collector's (see blob-leases). */
  markStaleMs?: number;
  /** Undoes a failed batch's lease and bytes (see PendingCleanups). */
  cleanups: PendingCleanups;
  maxSize: number;
  defaultTtlMs?: number;
  afterPush?: (rec: ArtifactRecord) => Promise<void>;
}

/**
 * Pushes many artifacts into one session atomically: every entry is streamed into staging
 * (small ones held in memory, larger ones streamed to the blob store) and checked — name,
 * metadata, size, announced digest, no name twice — before anything is written; then the
 * blobs are leased, their bytes committed and all rows added in one catalog transaction. All entries become visible at once, or none does: a bad entry refuses the
 * whole batch with an error whose message names it, and bytes this batch added that nothing
 * references are removed again. The catalog appends `artifact.created` per entry, in order,
 * in the batch's transaction.
 */
export async function pushBatch(
  d: BatchDeps,
  input: BatchInput,
  entries: AsyncIterable<BatchEntry>,
): Promise<PushResult[]> {
  validateSessionId(input.session);
  for (const id of input.derivedFrom ?? []) validateArtifactId(id);
  const common = validateMeta(input.meta ?? {});
  // Fail fast, before streaming a whole batch into a session that cannot take it.
  const session = await d.catalog.getSession(input.session, d.clock());
  if (session && session.sealedAt !== null) throw new SessionSealedError(input.session);
  const staged: Staged[] = [];
  try {
    const names = new Set<string>();
    for await (const entry of entries) {
      if (staged.length >= MAX_BATCH_ENTRIES)
        throw new InvalidInputError(
          'batch_too_large',
          `a batch holds at most ${MAX_BATCH_ENTRIES} entries; split it into several batches`,
        );
      const meta = named(entry.name, () => {
        validateName(entry.name);
        if (names.has(entry.name))
          throw new InvalidInputError(
            'duplicate_entry',
            'the name appears twice in the batch; a batch pushes each name once',
          );
        if (entry.contentType) checkContentType(entry.contentType);
        return validateMeta({ ...common, ...entry.meta });
      });
      names.add(entry.name);
      const blob = await namedAsync(entry.name, () =>
        d.blobs.stage(entry.source, { maxSize: d.maxSize, expectedSha256: entry.expectedSha256 }),
      );
      staged.push({ name: entry.name, contentType: entry.contentType, meta, blob });
    }
    if (staged.length === 0)
      throw new InvalidInputError('empty_batch', 'the batch holds no files; add at least one');
    const records = await commit(d, input, staged);
    void d.cleanups.retry();
    for (const r of records) await d.afterPush?.(r);
    return records;
  } finally {
    await Promise.all(staged.map((s) => s.blob.discard()));
  }
}

/** Leases the blobs, commits the staged bytes and adds every row in one transaction. */
async function commit(d: BatchDeps, input: BatchInput, staged: Staged[]): Promise<PushResult[]> {
  const shas = [...new Set(staged.map((s) => s.blob.sha256))];
  const staleMs = d.markStaleMs ?? MARK_STALE_MS;
  // Leased first: garbage collection cannot remove bytes between their commit and the rows,
  // which give the lease back in their own transaction.
  const leaseId = await leaseBlobs(d.catalog, shas, { clock: d.clock, staleMs });
  // One commit per distinct blob, all at once: small ones then share one catalog commit.
  const first = new Map(staged.map((s) => [s.blob.sha256, s.blob] as const).reverse());
  const created = new Set<string>();
  const commits = [...first.values()].map(async (b) => {
    if (await b.commit()) created.add(b.sha256);
  });
  try {
    await Promise.all(commits);
    const rows = rowsOf(d, input, staged).map((r) => ({
      ...r,
      leaseId,
      deduplicated: !created.has(r.sha256),
    }));
    const recs = await d.catalog.addArtifacts(rows);
    return recs.map((r) => ({ ...artifactRecord(r), deduplicated: !created.has(r.sha256) }));
  } catch (err) {
    await Promise.allSettled(commits);
    // Bytes only this batch brought go again, through garbage collection's own protocol.
    await d.cleanups.undo(leaseId, [...created]);
    throw err;
  }
}

/** The catalog rows of a batch, stamped now. */
function rowsOf(d: BatchDeps, input: BatchInput, staged: Staged[]): NewArtifact[] {
  const now = d.clock();
  const ttl = input.ttlMs ?? d.defaultTtlMs;
  return staged.map((s) => ({
    id: newId('a', now),
    session: input.session,
    name: s.name,
    sha256: s.blob.sha256,
    size: s.blob.size,
    contentType: s.contentType || mime.getType(s.name) || 'application/octet-stream',
    meta: s.meta,
    createdAt: now,
    expiresAt: ttl === undefined ? null : now + ttl,
    derivedFrom: [...new Set(input.derivedFrom ?? [])],
    parentSessions: input.readGlob ?? null,
    sessionExpiresAt: null,
  }));
}

/** Runs `fn`; a CairnError it throws comes back with the entry's name in front. */
function named<T>(name: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw withEntry(name, err);
  }
}

async function namedAsync<T>(name: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw withEntry(name, err);
  }
}

function withEntry(name: string, err: unknown): unknown {
  if (!(err instanceof CairnError)) return err;
  const shown = printable(name.length > 200 ? `${name.slice(0, 200)}…` : name);
  return new CairnError(err.code, err.status, `entry '${shown}': ${err.message}`, {
    details: { ...err.details, entry: shown },
    cause: err,
  });
}
