import type Database from 'better-sqlite3';
import type {
  IdempotencyCatalog,
  IdempotencyClaim,
  IdempotentAnswer,
} from '../idempotency-catalog.js';
import type { WriteBatcher } from './write-batcher.js';

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
 * {@link IdempotencyCatalog} in the idempotency table: a row with a `holder` is a claim (live
 * until `lease_until`), a row without one a finished answer. Claims resolve at commit (an
 * unfinished claim is worth nothing after a crash); answers after the WAL sync, like the
 * artifact row they describe.
 */
export class SqliteIdempotency implements IdempotencyCatalog {
  private readonly s;

  constructor(
    db: Database.Database,
    private readonly batch: WriteBatcher,
  ) {
    this.s = {
      get: db.prepare<[string], ClaimRow>(
        'SELECT status, body, request, created_at, holder, lease_until FROM idempotency WHERE key = ?',
      ),
      claim: db.prepare(
        `INSERT OR REPLACE INTO idempotency (key, status, body, request, created_at, holder, lease_until)
         VALUES (@key, 0, '', @request, @now, @holder, @leaseUntil)`,
      ),
      finish: db.prepare(
        `UPDATE idempotency SET status = @status, body = @body, request = @request,
           created_at = @now, holder = NULL, lease_until = NULL
         WHERE key = @key AND holder = @holder`,
      ),
      release: db.prepare('DELETE FROM idempotency WHERE key = ? AND holder = ?'),
      forget: db.prepare('DELETE FROM idempotency WHERE created_at < ? AND holder IS NULL'),
      answer: db.prepare<[string, number], IdempotentAnswer>(
        'SELECT status, body, request FROM idempotency WHERE key = ? AND holder IS NULL AND created_at >= ?',
      ),
    };
  }

  async claim(
    key: string,
    o: { holder: string; request: string; now: number; leaseUntil: number; since: number },
  ): Promise<IdempotencyClaim> {
    return this.batch.runOrdered((): IdempotencyClaim => {
      const row = this.s.get.get(key);
      if (row && row.holder === null && row.created_at >= o.since) {
        return {
          state: 'done',
          answer: { status: row.status, body: row.body, request: row.request },
        };
      }
      if (row && row.holder !== null && row.holder !== o.holder && (row.lease_until ?? 0) > o.now)
        return { state: 'busy', leaseUntil: row.lease_until ?? 0, request: row.request ?? '' };
      this.s.claim.run({
        key,
        request: o.request,
        now: o.now,
        holder: o.holder,
        leaseUntil: o.leaseUntil,
      });
      return { state: 'claimed' };
    });
  }

  async finish(
    key: string,
    holder: string,
    answer: IdempotentAnswer,
    now: number,
  ): Promise<boolean> {
    return this.batch.run(() => {
      const done = this.s.finish.run({ key, holder, now, ...answer }).changes > 0;
      this.s.forget.run(now - KEEP_MS);
      return done;
    });
  }

  async release(key: string, holder: string): Promise<void> {
    await this.batch.runOrdered(() => this.s.release.run(key, holder), { single: true });
  }

  async answer(key: string, since: number): Promise<IdempotentAnswer | null> {
    return this.s.answer.get(key, since) ?? null;
  }
}
