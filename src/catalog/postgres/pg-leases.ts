import type { LeaseCatalog } from '../lease-catalog.js';
import { Coalescer } from './pg-coalescer.js';
import { prepared, type PgDb } from './pg-db.js';

/** One leaseBlobs call, as cairn_lease_blobs reads it. */
interface LeaseCall {
  id: string;
  shas: string[];
  now: number;
  until: number;
  staleMs: number;
}

/**
 * {@link LeaseCatalog} in the blobs table (`gc_mark`) and blob_leases. A lease and a mark of
 * one blob are made mutually exclusive by the advisory lock `b:<sha256>` both take before they
 * read (the lease in cairn_lease_blobs, the mark before its transaction begins), so each reads
 * what the other committed.
 */
export class PgLeases implements LeaseCatalog {
  /** Concurrent lease calls, one statement and one commit each group (see pg-coalescer.ts). */
  private readonly leases: Coalescer<LeaseCall, boolean>;

  constructor(private readonly db: PgDb) {
    // Its own READ COMMITTED transaction, one round trip (see pg-push-functions.ts).
    this.leases = new Coalescer(async (calls) => {
      const row = await this.db.get<{ ok: boolean[] }>(
        prepared('SELECT cairn_lease_blobs($1::jsonb) AS ok'),
        [JSON.stringify(calls)],
      );
      return calls.map((_, i) => ({ ok: true as const, value: row?.ok[i] === true }));
    });
  }

  async leaseBlobs(
    id: string,
    sha256s: string[],
    o: { now: number; until: number; staleMs: number },
  ): Promise<boolean> {
    return this.leases.run({ id, shas: sha256s, now: o.now, until: o.until, staleMs: o.staleMs });
  }

  /** Resolves once no lease call is queued or running. */
  drain(): Promise<void> {
    return this.leases.drain();
  }

  async releaseLease(id: string): Promise<void> {
    await this.db.run('DELETE FROM blob_leases WHERE id = $1', [id]);
  }

  async markBlob(sha256: string, now: number, staleMs: number): Promise<number | null> {
    return this.db.tx(
      async (t) => {
        if (
          await t.get('SELECT 1 FROM blob_leases WHERE sha256 = $1 AND until > $2 LIMIT 1', [
            sha256,
            now,
          ])
        )
          return null;
        await t.run('DELETE FROM blob_leases WHERE sha256 = $1 AND until <= $2', [sha256, now]);
        await t.run(
          'INSERT INTO blobs (sha256, size, refs) VALUES ($1, 0, 0) ON CONFLICT (sha256) DO NOTHING',
          [sha256],
        );
        const marked = await t.run(
          `UPDATE blobs SET gc_mark = $2 WHERE sha256 = $1 AND refs <= 0
           AND (gc_mark IS NULL OR gc_mark <= $3)`,
          [sha256, now, now - staleMs],
        );
        return marked > 0 ? now : null;
        // The key cairn_lease_blobs takes, before the snapshot: a lease and a mark of one blob
        // run one after the other, each seeing what the other committed.
      },
      { lock: [`b:${sha256}`] },
    );
  }

  async dropMarkedBlob(sha256: string, mark: number): Promise<boolean> {
    return (
      (await this.db.run('DELETE FROM blobs WHERE sha256 = $1 AND gc_mark = $2 AND refs <= 0', [
        sha256,
        mark,
      ])) > 0
    );
  }

  async expiredLeases(now: number, limit: number): Promise<string[]> {
    const rows = await this.db.all<{ sha256: string }>(
      'SELECT sha256 FROM blob_leases GROUP BY sha256 HAVING max(until) <= $1 LIMIT $2',
      [now, limit],
    );
    return rows.map((r) => r.sha256);
  }

  async dropExpiredLeases(sha256s: string[], now: number): Promise<void> {
    if (sha256s.length === 0) return;
    await this.db.run('DELETE FROM blob_leases WHERE sha256 = ANY($1::text[]) AND until <= $2', [
      sha256s,
      now,
    ]);
  }
}
