/**
 * Secrets every node sharing a catalog must hold alike, created once by whichever node starts
 * first: the seal key (so every node signs with the same key) and the bootstrap admin token
 * (so every node mirrors the same `admin.token`). Rows are name → text and are never served by
 * any route or tool; the catalog is as sensitive as the files they mirror.
 *
 * Implementations: one row per name, written with `INSERT … ON CONFLICT DO NOTHING` and read
 * back in the same transaction, so racing claims from any number of processes or nodes all
 * get the first one's value.
 */
export interface SecretCatalog {
  /** The stored value of `name`, or null if nothing claimed it yet. */
  get(name: string): Promise<string | null>;
  /**
   * Stores `valueIfAbsent` under `name` unless a value is stored already, and returns the stored
   * value: `valueIfAbsent` for the one claim that won, the winner's value for every other.
   * Atomic across processes and nodes; durable once it resolves; never replaces a value.
   */
  claimOnce(name: string, valueIfAbsent: string): Promise<string>;
}
