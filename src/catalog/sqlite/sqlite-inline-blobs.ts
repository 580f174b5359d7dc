import type Database from 'better-sqlite3';
import type { SmallBlobStore } from '../../blobs/small-blob-store.js';
import type { WriteBatcher } from './write-batcher.js';

const PAGE = 1000;

/**
 * Small blobs as rows of `inline_blobs` in the catalog database. Writes go through the
 * catalog's group commit, so many puts share one transaction and one fsync. A put resolves at
 * its commit: it is durable with the catalog's next durable write, such as the artifact row
 * that references it (`full`: fsynced WAL, survives power loss; `process`: kill -9), so a push
 * waits for one fsync, not two.
 */
export class SqliteInlineBlobs implements SmallBlobStore {
  private readonly s;

  constructor(
    db: Database.Database,
    private readonly batch: WriteBatcher,
  ) {
    this.s = {
      put: db.prepare('INSERT OR IGNORE INTO inline_blobs (sha256, data) VALUES (?, ?)'),
      get: db.prepare<[string], { data: Buffer }>('SELECT data FROM inline_blobs WHERE sha256 = ?'),
      size: db.prepare<[string], { n: number }>(
        'SELECT length(data) AS n FROM inline_blobs WHERE sha256 = ?',
      ),
      delete: db.prepare('DELETE FROM inline_blobs WHERE sha256 = ?'),
      recent: db.prepare<[number], { sha256: string }>(
        'SELECT sha256 FROM inline_blobs WHERE rowid > (SELECT max(rowid) FROM inline_blobs) - ?',
      ),
      page: db.prepare<[string, number], { sha256: string }>(
        'SELECT sha256 FROM inline_blobs WHERE sha256 > ? ORDER BY sha256 LIMIT ?',
      ),
    };
  }

  async put(sha256: string, bytes: Buffer): Promise<boolean> {
    return this.batch.runOrdered(() => this.s.put.run(sha256, bytes).changes > 0, {
      single: true,
    });
  }

  async get(sha256: string): Promise<Buffer | null> {
    return this.s.get.get(sha256)?.data ?? null;
  }

  async size(sha256: string): Promise<number | null> {
    return this.s.size.get(sha256)?.n ?? null;
  }

  async delete(sha256: string): Promise<void> {
    await this.batch.run(() => this.s.delete.run(sha256));
  }

  async removeRecentOrphans(
    isReferenced: (sha256: string) => Promise<boolean>,
    window: number,
    remove?: (sha256: string) => Promise<boolean>,
  ): Promise<string[]> {
    // Rowids grow with inserts, so the values a crash could orphan are among the newest.
    const removed: string[] = [];
    for (const { sha256 } of this.s.recent.all(window)) {
      if (await isReferenced(sha256)) continue;
      if (remove) {
        if (!(await remove(sha256))) continue;
      } else await this.delete(sha256);
      removed.push(sha256);
    }
    return removed;
  }

  async *list(): AsyncIterable<string> {
    // Paged, so no statement stays open across the caller's awaits.
    for (let after = ''; ;) {
      const rows = this.s.page.all(after, PAGE);
      for (const r of rows) yield r.sha256;
      if (rows.length < PAGE) return;
      after = rows[rows.length - 1].sha256;
    }
  }
}
