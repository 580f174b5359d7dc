import type { LeaseCatalog } from '../lease-catalog.js';
import type { PgDb } from './pg-db.js';

/**
 * {@link LeaseCatalog} in the blobs table (`gc_mark`) and blob_leases. A lease and a mark of
 * one blob are made mutually exclusive by the advisory lock `b:<sha256>` both take before they
 * read (the lease in cairn_lease_blobs, the mark before its transaction begins), so each reads
 * what the other committed.
 */
export class PgLeases implements LeaseCatalog {
  constructor(private readonly db: PgDb) {}

  async leaseBlobs(
    id: string,
    sha256s: string[],
    o: { now: number; until: number; staleMs: number },
  ): Promise<boolean> {
    // One round trip, its own READ COMMITTED transaction (see pg-push-functions.ts).
    const row = await this.db.get<{ ok: boolean }>(
      'SELECT cairn_lease_blobs($1, $2::text[], $3, $4, $5) AS ok',
      [id, [...new Set(sha256s)], o.now, o.until, o.staleMs],
    );
    return row?.ok === true;
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
}
