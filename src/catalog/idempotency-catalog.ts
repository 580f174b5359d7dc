/** The answer remembered for an idempotency key, and what the request was. */
export interface IdempotentAnswer {
  status: number;
  body: string;
  /** What the key was first used for (method, target); null for answers stored without it. */
  request: string | null;
}

/** What {@link IdempotencyCatalog.claim} found. */
export type IdempotencyClaim =
  /** The key is the caller's: do the work, then finish (or release) under `holder`. */
  | { state: 'claimed' }
  /** The work was done: replay this answer (after checking it was for the same request). */
  | { state: 'done'; answer: IdempotentAnswer }
  /** Another holder's claim is live (until `leaseUntil`): wait and claim again. */
  | { state: 'busy'; leaseUntil: number; request: string };

/**
 * Idempotency keys as claims, so that of any number of requests with one key, on any number of
 * processes sharing the catalog, exactly one does the work and every other one gets its
 * answer. A claim carries a lease: a claimant that crashed (never finished nor released) loses
 * the key once its lease runs out, and the next claim takes it. Every method is atomic; keys
 * and answers older than the window given to {@link claim} are forgotten.
 */
export interface IdempotencyCatalog {
  /**
   * Claims `key` for `holder` until `leaseUntil` (epoch ms). A finished answer stored at or
   * after `since` wins (`done`); else a live claim of another holder (`busy`); else the key is
   * claimed (an expired claim or an answer older than `since` is replaced).
   */
  claim(
    key: string,
    o: { holder: string; request: string; now: number; leaseUntil: number; since: number },
  ): Promise<IdempotencyClaim>;
  /**
   * Stores the answer for a key `holder` claimed; false (storing nothing) if the claim was lost
   * meanwhile (its lease ran out and another holder took the key).
   */
  finish(key: string, holder: string, answer: IdempotentAnswer, now: number): Promise<boolean>;
  /** Gives up `holder`'s claim of `key` (the work failed: failures are not remembered). */
  release(key: string, holder: string): Promise<void>;
  /** The finished answer stored for `key` at or after `since`, or null (for legacy keys). */
  answer(key: string, since: number): Promise<IdempotentAnswer | null>;
}
