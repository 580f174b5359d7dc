import type { LeaseCatalog } from '../lease-catalog.js';
import type { PgDb } from './pg-db.js';

/**
 * {@link LeaseCatalog} in the blobs table (`gc_mark`) and blob_leases. A lease and a mark of
 * one blob are made mutually exclusive by SERIALIZABLE transactions (see PgDb.tx) that both
 * read the blob row and the leases of the hash before they write.
 */
export class PgLeases implements LeaseCatalog {
  constructor(private readonly db: PgDb) {}

  async leaseBlobs(
    id: string,
    sha256s: string[],
    o: { now: number; until: number; staleMs: number },
  ): Promise<boolean> {
    return this.db.tx(async (t) => {
      const stale = o.now - o.staleMs;
      const marks = await t.all<{ sha256: string; gc_mark: number | null }>(
        'SELECT sha256, gc_mark FROM blobs WHERE sha256 = ANY($1::text[]) AND gc_mark IS NOT NULL',
        [sha256s],
      );
      if (marks.some((m) => m.gc_mark !== null && m.gc_mark > stale)) return false;
      for (const m of marks)
        await t.run(
          'UPDATE blobs SET gc_mark = NULL WHERE sha256 = $1 AND gc_mark IS NOT NULL AND gc_mark <= $2',
          [m.sha256, stale],
        );
      await t.run(
        `INSERT INTO blob_leases AS l (id, sha256, until) SELECT $1, sha, $3 FROM unnest($2::text[]) AS sha
         ON CONFLICT (sha256, id) DO UPDATE SET until = GREATEST(l.until, excluded.until)`,
        [id, [...new Set(sha256s)], o.until],
      );
      return true;
    });
  }

  async releaseLease(id: string): Promise<void> {
    await this.db.run('DELETE FROM blob_leases WHERE id = $1', [id]);
  }

  async markBlob(sha256: string, now: number, staleMs: number): Promise<number | null> {
    return this.db.tx(async (t) => {
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
    });
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
