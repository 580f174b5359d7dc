/**
 * Whole small blobs kept as values (e.g. rows of the catalog's database), so storing one costs
 * a row in a group-committed transaction instead of a file create, fsync and rename.
 *
 * Contract: `put` resolves once the bytes are committed (readable, never half-written) and
 * durable to the store's setting, or, for a store inside the catalog's own database, durable
 * together with the catalog's next durable write (the artifact row that references them), which
 * is all a push needs: no acknowledged row without its bytes. `put` is idempotent per hash;
 * `delete` is idempotent.
 */
export interface SmallBlobStore {
  /** Stores `bytes` under `sha256`; resolves `true` if new, `false` if already held. */
  put(sha256: string, bytes: Buffer): Promise<boolean>;
  /** The bytes, or null if not held. */
  get(sha256: string): Promise<Buffer | null>;
  /** Size in bytes, or null if not held. */
  size(sha256: string): Promise<number | null>;
  /** Removes the value; no error if absent. */
  delete(sha256: string): Promise<void>;
  /** Every held hash, in no particular order. */
  list(): AsyncIterable<string>;
  /**
   * Removes values put in the last moments before a crash whose catalog row never came: of the
   * newest `window` values, those `isReferenced` denies, through `remove` when given (true if it
   * removed the value; e.g. the catalog's collection marks, which leave a value another process
   * leased alone), else directly. Costs O(window), not O(store).
   */
  removeRecentOrphans(
    isReferenced: (sha256: string) => Promise<boolean>,
    window: number,
    remove?: (sha256: string) => Promise<boolean>,
  ): Promise<string[]>;
}
