import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Catalog, IdempotentAnswer } from '../catalog/catalog.js';
import { CairnError } from '../lib/errors.js';

/** How long an idempotent answer is remembered. */
export const IDEMPOTENCY_WINDOW_MS = 24 * 3_600_000;

/** How long a claim lives without renewal (a crashed claimant's key is free again after it). */
export const CLAIM_LEASE_MS = 30_000;

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
 * first request's result (the second request would silently be lost). Of concurrent requests
 * with one key, on any number of processes sharing the catalog, one claims the key and does
 * the work (renewing its claim while it runs); the others wait for its answer (see
 * IdempotencyCatalog).
 */
export class Idempotency {
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
    const keys = this.o.catalog.idempotency;
    const holder = randomUUID();
    for (let wait = 5; ; wait = Math.min(wait * 2, 200)) {
      const now = this.o.clock();
      const since = now - IDEMPOTENCY_WINDOW_MS;
      const legacy = o.legacyKey === undefined ? null : await keys.answer(o.legacyKey, since);
      if (legacy) return this.replay(legacy, o);
      const claim = await keys.claim(key, {
        holder,
        request: o.request,
        now,
        leaseUntil: now + CLAIM_LEASE_MS,
        since,
      });
      if (claim.state === 'done') return this.replay(claim.answer, o);
      if (claim.state === 'busy') {
        if (claim.request !== o.request) throw keyReused(`for ${claim.request.slice(0, 300)}`);
        await sleep(wait);
        continue;
      }
      const answer = await this.holding(key, holder, o.request, fn);
      await keys.finish(key, holder, { ...answer, request: o.request }, this.o.clock());
      return { ...answer, replayed: false };
    }
  }

  /** Runs `fn`, renewing the claim meanwhile; gives the claim up if `fn` fails. */
  private async holding(
    key: string,
    holder: string,
    request: string,
    fn: () => Promise<{ status: number; body: string }>,
  ): Promise<{ status: number; body: string }> {
    const keys = this.o.catalog.idempotency;
    const renew = setInterval(() => {
      const now = this.o.clock();
      const o = { holder, request, now, leaseUntil: now + CLAIM_LEASE_MS, since: 0 };
      keys.claim(key, o).catch(() => undefined);
    }, CLAIM_LEASE_MS / 3);
    renew.unref();
    try {
      return await fn();
    } catch (err) {
      await keys.release(key, holder).catch(() => undefined);
      throw err;
    } finally {
      clearInterval(renew);
    }
  }

  private async replay(
    prior: IdempotentAnswer,
    o: { request: string; differs?: (prior: IdempotentAnswer) => Promise<string | null> },
  ): Promise<{ status: number; body: string; replayed: boolean }> {
    if (prior.request !== null && prior.request !== o.request)
      throw keyReused(`for ${prior.request.slice(0, 300)}`);
    const differs = o.differs ? await o.differs(prior) : null;
    if (differs !== null) throw keyReused(differs);
    return { status: prior.status, body: prior.body, replayed: true };
  }
}
