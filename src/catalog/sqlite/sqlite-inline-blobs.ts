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
      deleteUnheld: db.prepare(
        `DELETE FROM inline_blobs WHERE sha256 = @sha
           AND NOT EXISTS (SELECT 1 FROM blob_leases WHERE sha256 = @sha AND until > @now)
           AND NOT EXISTS (SELECT 1 FROM blobs WHERE sha256 = @sha AND refs > 0)`,
      ),
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
      if (await (remove ?? ((s) => this.removeUnheld(s)))(sha256)) removed.push(sha256);
    }
    return removed;
  }

  /**
   * Deletes the value unless a live lease or a reference holds it, checked in the same write;
   * true if it went. Another instance over this file may be pushing these bytes: its lease
   * commits before its put (which finds the value and stores nothing) and its reference after,
   * so an `isReferenced` answer may be stale by the time of the delete. Writes of all instances
   * take the file's write lock one at a time (BEGIN IMMEDIATE), so this delete comes either
   * after the lease's commit, and sees it, or before it, and the put after the lease stores
   * the bytes anew: no interleaving deletes a value a push then references.
   */
  private removeUnheld(sha256: string): Promise<boolean> {
    return this.batch.run(
      () => this.s.deleteUnheld.run({ sha: sha256, now: Date.now() }).changes > 0,
    );
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
