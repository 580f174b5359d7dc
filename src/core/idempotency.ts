import type { Catalog } from '../catalog/catalog.js';
import { KeyedMutex } from '../lib/keyed-mutex.js';

/** How long an idempotent answer is remembered. */
export const IDEMPOTENCY_WINDOW_MS = 24 * 3_600_000;

/**
 * Replays the first answer to a request carrying the same idempotency key within 24 h.
 * Concurrent requests with one key are serialized, so only one of them does the work.
 */
export class Idempotency {
  private readonly locks = new KeyedMutex();

  constructor(private readonly o: { catalog: Catalog; clock: () => number }) {}

  /** Runs `fn` once per key; later calls get the stored `{status, body}`. Failures are not stored. */
  async run(
    key: string,
    fn: () => Promise<{ status: number; body: string }>,
  ): Promise<{ status: number; body: string; replayed: boolean }> {
    return this.locks.run(key, async () => {
      const prior = await this.o.catalog.getIdempotent(key, this.o.clock() - IDEMPOTENCY_WINDOW_MS);
      if (prior) return { ...prior, replayed: true };
      const answer = await fn();
      await this.o.catalog.putIdempotent(key, answer.status, answer.body, this.o.clock());
      return { ...answer, replayed: false };
    });
  }
}
