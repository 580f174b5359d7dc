/**
 * Garbage collection against pushes of the same bytes, coordinated through the catalog alone
 * (no lock inside one process), so it holds when several processes or nodes share one catalog
 * and one blob store. Reference-first with leases and marks:
 *
 * - A push takes a lease on every blob it will rely on ({@link LeaseCatalog.leaseBlobs})
 *   *before* it commits or checks their bytes, and gives it back in the same transaction that
 *   adds its references (`NewArtifact.leaseId`), or with {@link LeaseCatalog.releaseLease} when
 *   it fails. Nothing on the push path deletes bytes but through this protocol (a failed push
 *   may ask for its own new bytes to be collected: marked only if nothing else holds them).
 * - Garbage collection marks a blob row ({@link LeaseCatalog.markBlob}) only while it has no
 *   reference and no live lease, deletes the bytes, then removes the row
 *   ({@link LeaseCatalog.dropMarkedBlob}). While a row is marked no lease is granted and no
 *   reference is added (`addArtifact` and imports throw BlobCollectedError).
 * - A mark older than `staleMs` belongs to a collector that died (or stalled) after marking: a
 *   lease or another collector may take it over. `staleMs` must exceed the longest time a
 *   delete the dead collector sent could still land (15 minutes for signed S3 requests).
 *
 * Every method is atomic. Implementations must make leaseBlobs and markBlob of one sha256
 * mutually exclusive (SQLite: one writer; PostgreSQL: lock the blob row, or an advisory lock
 * on the sha256, in both, and read leases after taking it).
 */
export interface LeaseCatalog {
  /**
   * Leases every blob in `sha256s` until `until` (epoch ms) under the lease id `id` (unique per
   * caller, e.g. a fresh random id), whether or not the catalog has a row for it yet. Returns
   * false, leasing nothing, if any of them is marked by a live collection (retry shortly: the
   * row goes once its bytes are deleted); a stale mark (older than `now - staleMs`) is cleared
   * instead.
   */
  leaseBlobs(
    id: string,
    sha256s: string[],
    o: { now: number; until: number; staleMs: number },
  ): Promise<boolean>;
  /** Gives back every blob lease taken under `id` (idempotent). */
  releaseLease(id: string): Promise<void>;
  /**
   * Marks a blob for collection, creating its row (refs 0) when the catalog has none (orphan
   * bytes). Returns the mark (a token for {@link dropMarkedBlob}), or null and marks nothing if
   * the blob has references, a lease live at `now`, or a mark newer than `now - staleMs`.
   */
  markBlob(sha256: string, now: number, staleMs: number): Promise<number | null>;
  /**
   * Removes the blob row if it still carries `mark` (call after its bytes are deleted); true if
   * it did. False when the mark was taken over meanwhile (the row is someone else's now).
   */
  dropMarkedBlob(sha256: string, mark: number): Promise<boolean>;
  /**
   * Up to `limit` blobs whose every lease has run out at `now` (`until <= now`): leases of
   * pushes that died before giving them back, whose bytes may be orphans. The sweep collects
   * each ({@link markBlob}, delete, {@link dropMarkedBlob}) then calls
   * {@link dropExpiredLeases}.
   */
  expiredLeases(now: number, limit: number): Promise<string[]>;
  /** Deletes the leases of `sha256s` that ran out at `now`; live ones stay. */
  dropExpiredLeases(sha256s: string[], now: number): Promise<void>;
}
