import type { Readable } from 'node:stream';
import type { BlobBody, BlobStore, ByteRange } from '../blobs/blob-store.js';
import type { Catalog } from '../catalog/catalog.js';
import { NotFoundError, SessionSealedError } from '../lib/errors.js';
import { pushBatch, type BatchEntry, type BatchInput } from './batch-push.js';
import { collectBytes, leaseBlobs, markStaleMsFor } from './blob-leases.js';
import { PendingCleanups } from './pending-cleanups.js';
import { pushInline, pushRow } from './push-row.js';
import { artifactNotFound, heldBy } from './read-scope.js';
import { artifactRecord } from './records.js';
import type { ArtifactQuery, ArtifactRecord, Page } from './types.js';
import { validatePushInput, type PushInput, type PushResult } from './push-input.js';
import { validateName, validateSessionId, validateSha256 } from './validate.js';

export type { PushInput, PushResult } from './push-input.js';

/**
 * Bodies announced at most this large skip the sealed-session check before streaming: the
 * catalog refuses the row anyway, and receiving them costs less than the extra lookup.
 */
const EARLY_CHECK_MIN = 64 * 1024;

/** Settings the artifact service needs. */
export interface ArtifactServiceOptions {
  catalog: Catalog;
  blobs: BlobStore;
  clock: () => number;
  /** Largest accepted artifact in bytes. */
  maxSize: number;
  /** TTL given to artifacts pushed without one (ms), if any. */
  defaultTtlMs?: number;
  /** Runs after each successful push (keep-last-N pruning). */
  afterPush?: (rec: ArtifactRecord) => Promise<void>;
  /** Age after which a collection mark is a dead collector's (default: markStaleMsFor(blobs)). */
  markStaleMs?: number;
}

/**
 * Pushing, reading, querying and deleting artifacts, and collecting the bytes nothing
 * references. A push and the collection of the same bytes are kept apart through the catalog
 * (leases and marks, see LeaseCatalog), so they may run in different processes.
 */
export class ArtifactService {
  private readonly staleMs: number;
  /** Undoing failed pushes, and what a full disk kept from being undone (see PendingCleanups). */
  readonly cleanups: PendingCleanups;

  constructor(private readonly o: ArtifactServiceOptions) {
    this.staleMs = o.markStaleMs ?? markStaleMsFor(o.blobs);
    this.cleanups = new PendingCleanups({
      releaseLease: (id) => o.catalog.leases.releaseLease(id),
      collect: (sha) => this.removeUnreferencedBytes(sha),
    });
  }

  /**
   * Streams `source` into the store and records it. Throws InvalidInputError for bad names,
   * metadata or lineage, DigestMismatchError, TooLargeError, SessionSealedError,
   * InsufficientStorageError; on any failure nothing is visible and no staged bytes remain.
   * Bytes the blob store would keep inline in this very catalog go in with the row, in one
   * catalog transaction (see pushInline); others, and any the catalog refuses that way, take
   * {@link record}'s lease path.
   */
  async push(input: PushInput, source: Readable): Promise<PushResult> {
    validatePushInput(input);
    // Fail fast, before streaming a large body into a session that cannot take it.
    if (input.announcedSize === undefined || input.announcedSize > EARLY_CHECK_MIN) {
      const session = await this.o.catalog.getSession(input.session, this.o.clock());
      if (session && session.sealedAt !== null) throw new SessionSealedError(input.session);
    }
    const staged = await this.o.blobs.stage(source, {
      maxSize: this.o.maxSize,
      expectedSha256: input.expectedSha256,
    });
    try {
      const row = (size: number) =>
        pushRow(input, staged.sha256, size, this.o.clock(), this.o.defaultTtlMs);
      const one = await pushInline(this.o.catalog, staged, row, this.staleMs);
      if (one) return await this.pushed(input, one);
      return await this.record(input, staged.sha256, staged.size, () => staged.commit());
    } finally {
      await staged.discard();
    }
  }

  /** Records an artifact whose bytes the store already holds; throws NotFoundError(`blob_not_found`). */
  async pushByReference(input: PushInput, sha256: string): Promise<PushResult> {
    validatePushInput(input);
    validateSha256(sha256);
    return this.record(input, sha256, -1, async () => {
      if (input.readGlob !== undefined && !(await this.hasBlob(sha256, input.readGlob)))
        throw new NotFoundError(`blob ${sha256} is not stored`, 'blob_not_found');
      const { size } = await this.o.blobs.stat(sha256);
      return size;
    });
  }

  /** Pushes many artifacts into one session atomically; see {@link pushBatch}. */
  async pushBatch(input: BatchInput, entries: AsyncIterable<BatchEntry>): Promise<PushResult[]> {
    const recs = await pushBatch(
      { ...this.o, markStaleMs: this.staleMs, cleanups: this.cleanups },
      input,
      entries,
    );
    const glob = input.readGlob;
    if (glob === undefined) return recs;
    // Whether bytes were already stored is told only from what the token's sessions hold.
    const seen = async (r: PushResult) =>
      r.deduplicated ? { ...r, deduplicated: await this.hasBlob(r.sha256, glob, r.id) } : r;
    return Promise.all(recs.map(seen));
  }

  /**
   * Leases the blob, makes the bytes durable (`commitBytes` returns whether they were new, or
   * for a by-reference push the size), then adds the catalog row, which gives the lease back.
   * Nothing here deletes bytes directly: if the row cannot be added, bytes this push created
   * go through garbage collection's own protocol (marked only if nothing references or leases
   * them).
   */
  private async record(
    input: PushInput,
    sha256: string,
    size: number,
    commitBytes: () => Promise<boolean | number>,
  ): Promise<PushResult> {
    const leaseId = await leaseBlobs(this.o.catalog, [sha256], {
      clock: this.o.clock,
      staleMs: this.staleMs,
    });
    let rec: PushResult;
    let committed: boolean | number = false;
    try {
      committed = await commitBytes();
      const row = pushRow(
        input,
        sha256,
        typeof committed === 'number' ? committed : size,
        this.o.clock(),
        this.o.defaultTtlMs,
      );
      const added = await this.o.catalog.addArtifact({
        ...row,
        leaseId,
        deduplicated: committed !== true,
      });
      rec = { ...artifactRecord(added), deduplicated: committed !== true };
    } catch (err) {
      // Bytes only this push brought go again, through garbage collection's own protocol
      // (a push of the same bytes elsewhere holds a lease or a reference, and keeps them).
      await this.cleanups.undo(leaseId, committed === true ? [sha256] : []);
      throw err;
    }
    return this.pushed(input, rec);
  }

  /**
   * After a push's row committed: cleanups a full disk held back, keep-last-N, and
   * `deduplicated` as the pusher may see it.
   */
  private async pushed(input: PushInput, rec: PushResult): Promise<PushResult> {
    void this.cleanups.retry();
    await this.o.afterPush?.(rec);
    const glob = input.readGlob;
    if (!rec.deduplicated || glob === undefined) return rec;
    return { ...rec, deduplicated: await this.hasBlob(rec.sha256, glob, rec.id) };
  }

  /**
   * True if the store holds bytes with this hash. With `sessions` (a token's read glob), only
   * bytes a live artifact of a matching session holds count, other than artifact `except`:
   * what only other sessions hold is not told.
   */
  async hasBlob(sha256: string, sessions?: string, except?: string): Promise<boolean> {
    validateSha256(sha256);
    if (sessions !== undefined) {
      const page = await this.query({ sessions, where: heldBy(sha256, except), limit: 1 });
      if (page.items.length === 0) return false;
    }
    return (await this.o.catalog.blobRefs(sha256)) > 0 && (await this.o.blobs.has(sha256));
  }

  /** The record of a live artifact; throws NotFoundError. */
  async get(id: string): Promise<ArtifactRecord> {
    const found = await this.o.catalog.getArtifact(id, this.o.clock());
    if (!found) throw artifactNotFound(id);
    return artifactRecord(found);
  }

  /** The latest (or given) version of a name in a session; throws NotFoundError. */
  async find(session: string, name: string, version?: number): Promise<ArtifactRecord> {
    validateSessionId(session);
    validateName(name);
    const found = await this.o.catalog.findArtifact(session, name, version, this.o.clock());
    if (!found) {
      const v = version === undefined ? '' : ` version ${version}`;
      throw new NotFoundError(`artifact '${name}'${v} not found in session '${session}'`);
    }
    return artifactRecord(found);
  }

  /** Opens an artifact's bytes (or a range) for sending through the store's fast path. */
  async body(rec: ArtifactRecord, range?: ByteRange): Promise<BlobBody> {
    return this.o.blobs.getBody(rec.sha256, range);
  }

  /** Streams an artifact's bytes (or a range); throws NotFoundError if they are gone. */
  async open(rec: ArtifactRecord, range?: ByteRange): Promise<Readable> {
    return this.o.blobs.get(rec.sha256, range);
  }

  /** Artifacts newest first. */
  async query(q: ArtifactQuery): Promise<Page<ArtifactRecord>> {
    const page = await this.o.catalog.queryArtifacts(q, this.o.clock());
    return { items: page.items.map(artifactRecord), next_cursor: page.next_cursor };
  }

  /** Artifacts derived from `id` (one level down). */
  async children(id: string): Promise<ArtifactRecord[]> {
    return (await this.o.catalog.derivedFrom(id, this.o.clock())).map(artifactRecord);
  }

  /** Deletes an artifact of an open session; removes its blob if nothing else references it. */
  async delete(id: string): Promise<ArtifactRecord> {
    await this.get(id);
    const removed = await this.o.catalog.deleteArtifact(id, this.o.clock());
    if (removed.blobUnreferenced) await this.collectBlob(removed.artifact.sha256);
    return artifactRecord(removed.artifact);
  }

  /**
   * Removes a blob's bytes if the catalog has its row with no reference and no lease: marks
   * the row, deletes the bytes, removes the row (a crash in between leaves a marked row, taken
   * over by a later collection once stale, never bytes without a row). True if it did.
   */
  async collectBlob(sha256: string): Promise<boolean> {
    const row = await this.o.catalog.audit.blob(sha256);
    if (!row || row.refs > 0) return false;
    return this.removeUnreferencedBytes(sha256);
  }

  /**
   * Removes a blob's bytes if no artifact references them and no push holds a lease on them,
   * whether or not the catalog has a row for the blob (fsck's orphans). True if the bytes went;
   * false if they stay (referenced, leased, being collected by someone else, or a backup is
   * running: then they go when it ends).
   */
  async removeUnreferencedBytes(sha256: string): Promise<boolean> {
    if (this.deleteHolds > 0) {
      this.deferredDeletes.add(sha256);
      return false;
    }
    const o = { now: this.o.clock(), staleMs: this.staleMs };
    return collectBytes(this.o.catalog, this.o.blobs, sha256, o);
  }

  private deleteHolds = 0;
  private readonly deferredDeletes = new Set<string>();

  /**
   * Keeps every blob's bytes on disk until the returned release runs (an online backup reads
   * blobs its catalog snapshot references, which may lose their last reference meanwhile).
   * Collections asked for meanwhile run at release (a crash before that leaves their rows at
   * refs 0 for the next sweep).
   */
  holdBlobDeletes(): () => Promise<void> {
    this.deleteHolds++;
    let released = false;
    return async () => {
      if (released) return;
      released = true;
      if (--this.deleteHolds > 0) return;
      const pending = [...this.deferredDeletes];
      this.deferredDeletes.clear();
      for (const sha of pending) await this.removeUnreferencedBytes(sha);
    };
  }
}
