import type Database from 'better-sqlite3';
import type { LeaseCatalog } from '../lease-catalog.js';
import type { WriteBatcher } from './write-batcher.js';

/**
 * {@link LeaseCatalog} in the blobs table (`gc_mark`) and blob_leases. SQLite has one writer at
 * a time, so a lease and a mark of one blob never interleave. Leases resolve at commit, without
 * waiting for the WAL sync: a lease only matters while its holder lives, and the push's own
 * artifact row, which gives it back, is synced before the push is acknowledged.
 */
export class SqliteLeases implements LeaseCatalog {
  private readonly s;

  constructor(
    db: Database.Database,
    private readonly batch: WriteBatcher,
  ) {
    this.s = {
      mark: db.prepare<[string], { gc_mark: number | null }>(
        'SELECT gc_mark FROM blobs WHERE sha256 = ?',
      ),
      clearStale: db.prepare(
        'UPDATE blobs SET gc_mark = NULL WHERE sha256 = ? AND gc_mark IS NOT NULL AND gc_mark <= ?',
      ),
      // The common case in one statement: no mark on the row (or no row).
      leaseUnmarked: db.prepare(
        `INSERT INTO blob_leases (id, sha256, until) SELECT @id, @sha, @until
         WHERE NOT EXISTS (SELECT 1 FROM blobs WHERE sha256 = @sha AND gc_mark IS NOT NULL)
         ON CONFLICT(sha256, id) DO UPDATE SET until = max(until, excluded.until)`,
      ),
      lease: db.prepare(
        `INSERT INTO blob_leases (id, sha256, until) VALUES (?, ?, ?)
         ON CONFLICT(sha256, id) DO UPDATE SET until = max(until, excluded.until)`,
      ),
      release: db.prepare('DELETE FROM blob_leases WHERE id = ?'),
      leased: db.prepare<[string, number], { one: number }>(
        'SELECT 1 AS one FROM blob_leases WHERE sha256 = ? AND until > ? LIMIT 1',
      ),
      dropExpiredLeases: db.prepare('DELETE FROM blob_leases WHERE sha256 = ? AND until <= ?'),
      expired: db.prepare<[number, number], { sha256: string }>(
        'SELECT sha256 FROM blob_leases GROUP BY sha256 HAVING max(until) <= ? LIMIT ?',
      ),
      orphanRow: db.prepare(
        'INSERT INTO blobs (sha256, size, refs) VALUES (?, 0, 0) ON CONFLICT(sha256) DO NOTHING',
      ),
      setMark: db.prepare(
        `UPDATE blobs SET gc_mark = @now WHERE sha256 = @sha AND refs <= 0
           AND (gc_mark IS NULL OR gc_mark <= @stale)`,
      ),
      dropMarked: db.prepare('DELETE FROM blobs WHERE sha256 = ? AND gc_mark = ? AND refs <= 0'),
    };
  }

  async leaseBlobs(
    id: string,
    sha256s: string[],
    o: { now: number; until: number; staleMs: number },
  ): Promise<boolean> {
    // A push leases one blob: one statement, no savepoint, in the push's group commit.
    if (sha256s.length === 1) {
      const one = { id, sha: sha256s[0], until: o.until };
      if (
        await this.batch.runOrdered(() => this.s.leaseUnmarked.run(one).changes > 0, {
          single: true,
        })
      )
        return true;
    }
    return this.batch.runOrdered(() => {
      const stale = o.now - o.staleMs;
      const marked = sha256s.map((sha) => this.s.mark.get(sha)?.gc_mark ?? null);
      if (marked.some((m) => m !== null && m > stale)) return false;
      sha256s.forEach((sha, i) => {
        if (marked[i] !== null) this.s.clearStale.run(sha, stale);
        this.s.lease.run(id, sha, o.until);
      });
      return true;
    });
  }

  async releaseLease(id: string): Promise<void> {
    await this.batch.runOrdered(() => this.s.release.run(id), { single: true });
  }

  async markBlob(sha256: string, now: number, staleMs: number): Promise<number | null> {
    return this.batch.run(() => {
      if (this.s.leased.get(sha256, now)) return null;
      this.s.dropExpiredLeases.run(sha256, now);
      this.s.orphanRow.run(sha256);
      const marked = this.s.setMark.run({ sha: sha256, now, stale: now - staleMs }).changes > 0;
      return marked ? now : null;
    });
  }

  async dropMarkedBlob(sha256: string, mark: number): Promise<boolean> {
    return this.batch.run(() => this.s.dropMarked.run(sha256, mark).changes > 0, { single: true });
  }

  async expiredLeases(now: number, limit: number): Promise<string[]> {
    return this.s.expired.all(now, limit).map((r) => r.sha256);
  }

  async dropExpiredLeases(sha256s: string[], now: number): Promise<void> {
    if (sha256s.length === 0) return;
    await this.batch.run(() => {
      for (const sha of sha256s) this.s.dropExpiredLeases.run(sha, now);
    });
  }
}
