/** A blob as the catalog records it. */
export interface BlobRow {
  sha256: string;
  size: number;
  refs: number;
}

/** A blob whose stored reference count differs from the artifacts that reference it. */
export interface RefMismatch {
  sha256: string;
  stored: number;
  actual: number;
}

/** A session whose stored counters differ from its artifacts. */
export interface SessionCountMismatch {
  id: string;
  stored: { count: number; bytes: number };
  actual: { count: number; bytes: number };
}

/** A consistent copy of the catalog, taken online, and the blobs it references. */
export interface CatalogSnapshot {
  /**
   * Blobs the copy's artifacts reference whose bytes are not inside the copy itself (small
   * blobs kept in the catalog are), sorted by hash, a page after `after` at a time.
   */
  referencedBlobs(after: string, limit: number): Promise<{ sha256: string; size: number }[]>;
  /** Releases the copy (the file stays where it was written). Idempotent. */
  close(): Promise<void>;
}

/**
 * Consistency checks and repairs of the catalog (for `cairn fsck`) and its online copy (for
 * `cairn backup`). Checks only read; every repair is one atomic transaction that recomputes
 * derived data (counts, flags) from the artifact rows and never removes an artifact.
 */
export interface AuditCatalog {
  /** The storage engine's own integrity and foreign-key problems; empty when healthy. */
  integrity(): Promise<string[]>;
  /** Blob rows sorted by hash, at most `limit` after `after` (paging without holding a cursor). */
  blobPage(after: string, limit: number): Promise<BlobRow[]>;
  /** The catalog's record of one blob, or null. */
  blob(sha256: string): Promise<BlobRow | null>;
  /** Artifact rows whose blob has no catalog row (at most `limit`). */
  artifactsWithoutBlobRow(limit: number): Promise<{ id: string; sha256: string }[]>;
  /** Blobs whose reference count is wrong (at most `limit`). */
  refMismatches(limit: number): Promise<RefMismatch[]>;
  /** Sets every blob's reference count to its artifact rows; returns how many changed. */
  fixRefs(): Promise<number>;
  /** Sessions whose artifact count or total bytes are wrong (at most `limit`). */
  sessionCountMismatches(limit: number): Promise<SessionCountMismatch[]>;
  /** Recomputes every session's counters; returns how many changed. */
  fixSessionCounts(): Promise<number>;
  /** Names whose `latest` flag is not on exactly their highest version (at most `limit`). */
  latestMismatches(limit: number): Promise<{ session: string; name: string }[]>;
  /** Puts every name's `latest` flag on its highest version; returns rows changed. */
  fixLatest(): Promise<number>;
  /** Artifacts whose size differs from their blob row's (at most `limit`). */
  sizeMismatches(limit: number): Promise<{ id: string; sha256: string }[]>;
  /**
   * Copies the catalog to the file `dest` while it keeps serving (one consistent point in
   * time). Throws ConflictError(`backup_running`) while another copy is being made.
   */
  snapshot(dest: string): Promise<CatalogSnapshot>;
}
