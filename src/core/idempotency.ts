import type { Catalog, IdempotentAnswer } from '../catalog/catalog.js';
import { CairnError } from '../lib/errors.js';
import { KeyedMutex } from '../lib/keyed-mutex.js';

/** How long an idempotent answer is remembered. */
export const IDEMPOTENCY_WINDOW_MS = 24 * 3_600_000;

/** 422: an idempotency key used again, within its window, for a different request. */
function keyReused(what: string): CairnError {
  return new CairnError(
    'idempotency_key_reused',
    422,
    `this Idempotency-Key was first used ${what} within the last 24 h; use a new key for a different request`,
  );
}

/**
 * Replays the first answer to a request carrying the same idempotency key within 24 h, if it
 * is the same request: a key reused for another one is refused (422), never answered with the
 * first request's result (the second request would silently be lost). Concurrent requests with
 * one key are serialized, so only one of them does the work.
 */
export class Idempotency {
  private readonly locks = new KeyedMutex();

  constructor(private readonly o: { catalog: Catalog; clock: () => number }) {}

  /**
   * Runs `fn` once per key; later calls with the same `o.request` (method and target) get the
   * stored `{status, body}` unless `o.differs` (if given) says how this request differs from
   * the one that answer was for; they throw a 422 `idempotency_key_reused` otherwise.
   * `o.legacyKey` is also looked up (never written): the form keys were stored under before,
   * so retries across an upgrade still replay. Failures are not stored.
   */
  async run(
    key: string,
    o: {
      request: string;
      /** How this request differs from the stored answer's (e.g. 'with other bytes'), or null. */
      differs?: (prior: IdempotentAnswer) => Promise<string | null>;
      legacyKey?: string;
    },
    fn: () => Promise<{ status: number; body: string }>,
  ): Promise<{ status: number; body: string; replayed: boolean }> {
    return this.locks.run(key, async () => {
      const since = this.o.clock() - IDEMPOTENCY_WINDOW_MS;
      const prior =
        (await this.o.catalog.getIdempotent(key, since)) ??
        (o.legacyKey === undefined ? null : await this.o.catalog.getIdempotent(o.legacyKey, since));
      if (prior) {
        if (prior.request !== null && prior.request !== o.request)
          throw keyReused(`for ${prior.request.slice(0, 300)}`);
        const differs = o.differs ? await o.differs(prior) : null;
        if (differs !== null) throw keyReused(differs);
        return { status: prior.status, body: prior.body, replayed: true };
      }
      const answer = await fn();
      await this.o.catalog.putIdempotent(key, { ...answer, request: o.request }, this.o.clock());
      return { ...answer, replayed: false };
    });
  }
}
