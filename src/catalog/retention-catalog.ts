import type { StoredArtifact } from './stored-rows.js';

/** What one sweep batch removed from the catalog. */
export interface SweepBatch {
  /** Sessions whose last row went in this batch (expired whole), with their artifact count. */
  sessions: { id: string; artifacts: number }[];
  /** Artifact rows of expired sessions removed in this batch (a session may span batches). */
  sessionArtifactRows: number;
  /** Artifacts that expired on their own (their session lives on). */
  artifacts: StoredArtifact[];
  /** Rows removed in this batch, all kinds together (the batch is full when this = limit). */
  rows: number;
}

/** What sweeping everything expired at `now` would remove, dedupe taken into account. */
export interface RetentionPlan {
  /** Ids of the expired sessions (at most 1000 listed). */
  sessions: string[];
  sessionCount: number;
  /** Artifact rows that would go (in expired sessions and on their own). */
  artifacts: number;
  /** Blobs that no live artifact would reference any more (including already unreferenced). */
  blobs: number;
  /** Bytes those blobs occupy: what a real run frees. */
  bytes: number;
}

/** Artifacts removed by a delete or prune, and the blobs that lost their last reference. */
export interface RemovedRows {
  removed: StoredArtifact[];
  unreferenced: string[];
}

/**
 * Retention writes of the catalog. Every method is atomic, and gives back a blob reference
 * only for a row it really deleted (a racing removal of the same row counts once). Removing
 * rows never removes bytes: a blob whose reference count drops to 0 keeps its row (refs 0)
 * until garbage collection marks it and deletes its bytes (see LeaseCatalog), so a concurrent
 * push of the same bytes can never lose them. Counts returned are of rows really removed.
 * Each write appends, in its own transaction, an event per thing it removed (see
 * EventCatalog): `sweepExpired` `session.expired` (`{ id, artifacts }`) per session and
 * `artifact.deleted` (the record with `reason: 'expired'`) per artifact that expired alone;
 * `deleteSession` `session.deleted` (`{ id, artifacts }`); `pruneVersions` `artifact.deleted`
 * (`reason: 'pruned'`) per version removed.
 */
export interface RetentionCatalog {
  /**
   * Removes at most `limit` expired rows in one transaction: first the artifacts and then the
   * row of sessions that expired (never pinned ones), then artifacts that expired on their own
   * in open sessions (in sealed sessions only those already expired when it was sealed).
   */
  sweepExpired(now: number, limit: number): Promise<SweepBatch>;
  /** What {@link sweepExpired} run to completion at `now` (plus blob collection) would free. */
  plan(now: number): Promise<RetentionPlan>;
  /**
   * Blobs with no reference left (to be collected), at most `limit`, with their sizes, in
   * sha256 order from just after `after` (default: from the start), so a caller can walk past
   * rows it could not collect (leased, or marked by another collector).
   */
  unreferencedBlobs(limit: number, after?: string): Promise<{ sha256: string; size: number }[]>;
  /**
   * Deletes an open session with all its artifacts; returns how many. Throws NotFoundError if
   * unknown or expired, SessionSealedError if sealed.
   */
  deleteSession(id: string, now: number): Promise<{ artifacts: number; unreferenced: string[] }>;
  /**
   * Keeps only the newest `keep` versions of `name` (every name when null) in an open session;
   * the session's own `keep_versions` wins over `defaultKeep`. No-op when neither is set.
   */
  pruneVersions(
    session: string,
    name: string | null,
    defaultKeep: number | undefined,
    now: number,
  ): Promise<RemovedRows>;
}
