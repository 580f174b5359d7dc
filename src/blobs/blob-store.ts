import type { Readable, Writable } from 'node:stream';
import type { SmallBlobStore } from './small-blob-store.js';

/** Byte range, both ends inclusive (as in HTTP `Range`). */
export interface ByteRange {
  start: number;
  end: number;
}

/** Bytes received and hashed but not yet part of the store. */
export interface StagedBlob {
  readonly sha256: string;
  readonly size: number;
  /**
   * Makes the bytes part of the store, durably when the store was opened durable: on disk when
   * it resolves, or, for bytes kept in the catalog's own database, no later than the catalog
   * row written next (see SmallBlobStore). Resolves `true` if they were new, `false` if the
   * store already held them (the staged copy is dropped). Idempotent; after it resolves,
   * `get(sha256)` succeeds.
   */
  commit(): Promise<boolean>;
  /**
   * Present when the store would keep these bytes as a value of `store`, a catalog's inline
   * tier (see SmallBlobStore): a catalog that owns `store` may then write `bytes` in the same
   * transaction as the artifact row (CatalogCapabilities.inlinePush) instead of `commit()`.
   */
  readonly inline?: { store: SmallBlobStore; bytes: Buffer };
  /**
   * Drops the staged bytes. Safe to call after commit and more than once. Call it once the
   * catalog row for a committed blob is written (or the push failed and cleaned up): until then
   * the store remembers the blob as possibly unreferenced, for {@link BlobStore.recover}.
   */
  discard(): Promise<void>;
}

/** A stored blob (or part of it) opened for sending; see {@link BlobStore.getBody}. */
export interface BlobBody {
  /**
   * Writes the bytes into `out` without ending it; resolves once `out` has taken all of them,
   * rejects if `out` closes or fails first. Releases the blob either way.
   */
  writeTo(out: Writable): Promise<void>;
  /** Releases the blob without sending it. Idempotent. */
  close(): Promise<void>;
}

/** Options for {@link BlobStore.stage}. */
export interface StageOptions {
  /** Reject with TooLargeError once more than this many bytes arrive. */
  maxSize?: number;
  /** Reject with DigestMismatchError unless the bytes hash to this (lowercase hex). */
  expectedSha256?: string;
}

/** Options for {@link BlobStore.recover}. */
export interface RecoverOptions {
  /**
   * Whether the catalog references a blob. Given it, recover removes blobs that a crash left
   * committed but unreferenced (between the blob's commit and the catalog row's).
   */
  isReferenced?: (sha256: string) => Promise<boolean>;
  /**
   * Removes a blob a crash may have left unreferenced (one `isReferenced` denies, when given) if
   * nothing references or leases it, through the catalog's collection marks (see collectBytes);
   * true if it went. Without it such blobs are deleted directly: only safe while no other
   * process can be pushing the same bytes.
   */
  collect?: (sha256: string) => Promise<boolean>;
}

/** What {@link BlobStore.recover} cleaned up. */
export interface RecoverReport {
  /** Hashes of orphan blobs removed. */
  orphansRemoved: string[];
}

/**
 * Content-addressed blob storage: bytes are stored once per sha256.
 *
 * Contract for every implementation:
 * - `stage` streams the source to temporary storage while hashing, never buffering it whole;
 *   on any error (source aborted, too large, digest mismatch, disk full) nothing remains.
 * - `get` throws NotFoundError for an unknown hash (never returns an empty stream).
 * - `delete` is idempotent. Callers never run `delete` and `commit` of the same hash at once
 *   (the core keeps them apart with catalog leases and marks, see LeaseCatalog), so a blob
 *   being re-added is never lost.
 */
export interface BlobStore {
  /** Streams `source` into staging; see {@link StagedBlob}. */
  stage(source: Readable, opts?: StageOptions): Promise<StagedBlob>;
  /** True if the store holds these bytes. */
  has(sha256: string): Promise<boolean>;
  /** Size of a stored blob; throws NotFoundError. */
  stat(sha256: string): Promise<{ size: number }>;
  /** Streams a stored blob, or part of it; throws NotFoundError. */
  get(sha256: string, range?: ByteRange): Promise<Readable>;
  /**
   * Opens a blob, or part of it, for writing into a socket: the serving path (a local store
   * reuses its read buffers, which a stream handed to others cannot). Throws NotFoundError
   * before anything is written.
   */
  getBody(sha256: string, range?: ByteRange): Promise<BlobBody>;
  /** Removes a blob; no error if it is absent. */
  delete(sha256: string): Promise<void>;
  /** Every stored hash, in no particular order. */
  list(): AsyncIterable<string>;
  /**
   * Drops staging leftovers of a previous run and, with `collect` or `isReferenced`, blobs a
   * crash left committed but unreferenced (called at start, before serving). Its cost is bounded
   * by what was in flight at the crash, not by the size of the store. It never touches what
   * another live process sharing the store has in flight (its uploads, or blobs it committed
   * whose catalog row is not written yet): only what dead processes left.
   */
  recover(opts?: RecoverOptions): Promise<RecoverReport>;
  /**
   * Resolves once the store answered a cheap request (a directory access; an S3 `HeadBucket`);
   * rejects with the error otherwise. What `/healthz` asks, under a short timeout.
   */
  ping(): Promise<void>;
  /** Releases what the store holds open (files, connections). Idempotent. */
  close(): Promise<void>;
  /**
   * How long after `delete` was called its request may still reach the store and remove the
   * bytes (a signed S3 DELETE: 15 minutes). The core waits at least this long before taking
   * over a dead collector's mark (see MARK_STALE_MS). Absent: a delete cannot outlive its
   * process.
   */
  readonly deleteHorizonMs?: number;
  /**
   * Removes uploads abandoned before `now` minus the store's own age limit (a node killed
   * mid-push), leaving newer ones (another node's push in progress) alone; returns how many
   * went. Run by the sweeper's leader. Absent: the store has nothing such (a local directory
   * clears its leftovers in `recover`).
   */
  sweepAbandoned?(now: number): Promise<number>;
}
