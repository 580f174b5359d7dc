import type {
  IdempotencyCatalog,
  IdempotencyClaim,
  IdempotentAnswer,
} from '../idempotency-catalog.js';
import type { PgDb } from './pg-db.js';

/** How long a finished answer is kept at most (the longest window any caller asks for). */
const KEEP_MS = 24 * 3_600_000;

interface ClaimRow {
  status: number;
  body: string;
  request: string | null;
  created_at: number;
  holder: string | null;
  lease_until: number | null;
}

/**
 * {@link IdempotencyCatalog} in the idempotency table (mirrors sqlite-idempotency.ts): a row
 * with a `holder` is a claim, live until `lease_until`; a row without one a finished answer.
 */
export class PgIdempotency implements IdempotencyCatalog {
  constructor(private readonly db: PgDb) {}

  async claim(
    key: string,
    o: { holder: string; request: string; now: number; leaseUntil: number; since: number },
  ): Promise<IdempotencyClaim> {
    return this.db.tx(async (t): Promise<IdempotencyClaim> => {
      const row = await t.get<ClaimRow>(
        'SELECT status, body, request, created_at, holder, lease_until FROM idempotency WHERE key = $1',
        [key],
      );
      if (row && row.holder === null && row.created_at >= o.since)
        return {
          state: 'done',
          answer: { status: row.status, body: row.body, request: row.request },
        };
      if (row && row.holder !== null && row.holder !== o.holder && (row.lease_until ?? 0) > o.now)
        return { state: 'busy', leaseUntil: row.lease_until ?? 0, request: row.request ?? '' };
      await t.run(
        `INSERT INTO idempotency (key, status, body, request, created_at, holder, lease_until)
         VALUES ($1, 0, '', $2, $3, $4, $5)
         ON CONFLICT (key) DO UPDATE SET status = 0, body = '', request = excluded.request,
           created_at = excluded.created_at, holder = excluded.holder, lease_until = excluded.lease_until`,
        [key, o.request, o.now, o.holder, o.leaseUntil],
      );
      return { state: 'claimed' };
    });
  }

  async finish(
    key: string,
    holder: string,
    answer: IdempotentAnswer,
    now: number,
  ): Promise<boolean> {
    return this.db.tx(async (t) => {
      const done =
        (await t.run(
          `UPDATE idempotency SET status = $3, body = $4, request = $5, created_at = $6,
             holder = NULL, lease_until = NULL
           WHERE key = $1 AND holder = $2`,
          [key, holder, answer.status, answer.body, answer.request, now],
        )) > 0;
      await t.run('DELETE FROM idempotency WHERE created_at < $1 AND holder IS NULL', [
        now - KEEP_MS,
      ]);
      return done;
    });
  }

  async release(key: string, holder: string): Promise<void> {
    await this.db.run('DELETE FROM idempotency WHERE key = $1 AND holder = $2', [key, holder]);
  }

  async answer(key: string, since: number): Promise<IdempotentAnswer | null> {
    return (
      (await this.db.get<IdempotentAnswer>(
        'SELECT status, body, request FROM idempotency WHERE key = $1 AND holder IS NULL AND created_at >= $2',
        [key, since],
      )) ?? null
    );
  }
}
