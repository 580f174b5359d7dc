import type Database from 'better-sqlite3';
import { ConflictError } from '../../lib/errors.js';
import type {
  AuditCatalog,
  BlobRow,
  CatalogSnapshot,
  RefMismatch,
  SessionCountMismatch,
} from '../audit-catalog.js';
import { COUNTED_ARTIFACTS, COUNTED_BYTES } from './rows.js';
import type { WriteBatcher } from './write-batcher.js';

const ACTUAL_REFS = '(SELECT count(*) FROM artifacts a WHERE a.sha256 = b.sha256)';
const ACTUAL_COUNT = COUNTED_ARTIFACTS;
const ACTUAL_BYTES = COUNTED_BYTES;
/** Rows whose latest flag disagrees with "highest version of its name". */
const WRONG_LATEST = `SELECT a.seq, a.is_latest, s.id AS session, a.name FROM artifacts a
  JOIN sessions s ON s.seq = a.session_seq
  WHERE a.is_latest != (a.version = (SELECT max(b.version) FROM artifacts b
    WHERE b.session_seq = a.session_seq AND b.name = a.name))`;

/** {@link AuditCatalog} over the SQLite catalog's connection and write batcher. */
export class SqliteAudit implements AuditCatalog {
  private snapshotting = false;

  constructor(
    private readonly db: Database.Database,
    private readonly batch: WriteBatcher,
  ) {}

  async integrity(): Promise<string[]> {
    const quick = this.db.pragma('quick_check') as { quick_check: string }[];
    const problems = quick.map((r) => r.quick_check).filter((m) => m !== 'ok');
    const fk = this.db.pragma('foreign_key_check') as { table: string; rowid: number }[];
    for (const r of fk.slice(0, 100))
      problems.push(`foreign key broken: ${r.table} row ${r.rowid}`);
    return problems;
  }

  async blobPage(after: string, limit: number): Promise<BlobRow[]> {
    return this.db
      .prepare<[string, number], BlobRow>(
        'SELECT sha256, size, refs FROM blobs WHERE sha256 > ? ORDER BY sha256 LIMIT ?',
      )
      .all(after, limit);
  }

  async blob(sha256: string): Promise<BlobRow | null> {
    return (
      this.db
        .prepare<[string], BlobRow>('SELECT sha256, size, refs FROM blobs WHERE sha256 = ?')
        .get(sha256) ?? null
    );
  }

  async artifactsWithoutBlobRow(limit: number): Promise<{ id: string; sha256: string }[]> {
    return this.db
      .prepare<[number], { id: string; sha256: string }>(
        `SELECT id, sha256 FROM artifacts a WHERE NOT EXISTS
           (SELECT 1 FROM blobs b WHERE b.sha256 = a.sha256) LIMIT ?`,
      )
      .all(limit);
  }

  async refMismatches(limit: number): Promise<RefMismatch[]> {
    return this.db
      .prepare<[number], RefMismatch>(
        `SELECT b.sha256, b.refs AS stored, ${ACTUAL_REFS} AS actual FROM blobs b
         WHERE b.refs != ${ACTUAL_REFS} LIMIT ?`,
      )
      .all(limit);
  }

  async fixRefs(): Promise<number> {
    return this.batch.run(
      () =>
        this.db
          .prepare(`UPDATE blobs AS b SET refs = ${ACTUAL_REFS} WHERE b.refs != ${ACTUAL_REFS}`)
          .run().changes,
    );
  }

  async sessionCountMismatches(limit: number): Promise<SessionCountMismatch[]> {
    const rows = this.db
      .prepare<
        [number],
        { id: string; count: number; bytes: number; actual_count: number; actual_bytes: number }
      >(
        `SELECT id, count, bytes, actual_count, actual_bytes FROM (
           SELECT s.id, s.artifact_count AS count, s.total_bytes AS bytes,
                  ${ACTUAL_COUNT} AS actual_count, ${ACTUAL_BYTES} AS actual_bytes
           FROM sessions s)
         WHERE count != actual_count OR bytes != actual_bytes LIMIT ?`,
      )
      .all(limit);
    return rows.map((r) => ({
      id: r.id,
      stored: { count: r.count, bytes: r.bytes },
      actual: { count: r.actual_count, bytes: r.actual_bytes },
    }));
  }

  async fixSessionCounts(): Promise<number> {
    return this.batch.run(
      () =>
        this.db
          .prepare(
            `UPDATE sessions AS s SET artifact_count = ${ACTUAL_COUNT}, total_bytes = ${ACTUAL_BYTES}
             WHERE s.artifact_count != ${ACTUAL_COUNT} OR s.total_bytes != ${ACTUAL_BYTES}`,
          )
          .run().changes,
    );
  }

  async latestMismatches(limit: number): Promise<{ session: string; name: string }[]> {
    return this.db
      .prepare<[number], { session: string; name: string }>(
        `SELECT DISTINCT session, name FROM (${WRONG_LATEST}) LIMIT ?`,
      )
      .all(limit);
  }

  async fixLatest(): Promise<number> {
    return this.batch.run(
      () =>
        this.db
          .prepare(
            `UPDATE artifacts SET is_latest = 1 - is_latest WHERE seq IN (SELECT seq FROM (${WRONG_LATEST}))`,
          )
          .run().changes,
    );
  }

  async sizeMismatches(limit: number): Promise<{ id: string; sha256: string }[]> {
    return this.db
      .prepare<[number], { id: string; sha256: string }>(
        `SELECT a.id, a.sha256 FROM artifacts a JOIN blobs b ON b.sha256 = a.sha256
         WHERE a.size != b.size LIMIT ?`,
      )
      .all(limit);
  }

  async snapshot(dest: string): Promise<CatalogSnapshot> {
    if (this.snapshotting)
      throw new ConflictError(
        'backup_running',
        'a backup is already running; wait for it to finish and try again',
      );
    this.snapshotting = true;
    let attached = false;
    const close = async () => {
      if (attached) this.db.prepare('DETACH DATABASE cairn_snap').run();
      attached = false;
      this.snapshotting = false;
    };
    try {
      // SQLite's online backup: the copy is one consistent point in time even while writes go on.
      await this.db.backup(dest);
      this.db.prepare('ATTACH DATABASE ? AS cairn_snap').run(dest);
      attached = true;
      // A plain rollback-journal file: the copy is complete without -wal/-shm companions.
      this.db.pragma('cairn_snap.journal_mode = DELETE');
    } catch (err) {
      await close();
      throw err;
    }
    // Small blobs kept in the catalog are inside the copy already: not listed again as files.
    const page = this.db.prepare<[string, number], { sha256: string; size: number }>(
      `SELECT sha256, max(size) AS size FROM cairn_snap.artifacts a WHERE sha256 > ?
         AND NOT EXISTS (SELECT 1 FROM cairn_snap.inline_blobs i WHERE i.sha256 = a.sha256)
       GROUP BY sha256 ORDER BY sha256 LIMIT ?`,
    );
    let closed = false;
    return {
      referencedBlobs: async (after, limit) => page.all(after, limit),
      close: async () => {
        if (closed) return;
        closed = true;
        await close();
      },
    };
  }
}
