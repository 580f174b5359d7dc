import { InvalidInputError } from '../../lib/errors.js';
import type {
  AuditCatalog,
  BlobRow,
  CatalogSnapshot,
  RefMismatch,
  SessionCountMismatch,
} from '../audit-catalog.js';
import type { PgDb } from './pg-db.js';
import { COUNTED_ARTIFACTS, COUNTED_BYTES } from './pg-sql.js';

const ACTUAL_REFS = '(SELECT count(*) FROM artifacts a WHERE a.sha256 = b.sha256)';
/** Rows whose latest flag disagrees with "highest version of its name". */
const WRONG_LATEST = `SELECT a.seq, a.is_latest, s.id AS session, a.name FROM artifacts a
  JOIN sessions s ON s.seq = a.session_seq
  WHERE (a.is_latest = 1) != (a.version = (SELECT max(b.version) FROM artifacts b
    WHERE b.session_seq = a.session_seq AND b.name = a.name))`;

/** {@link AuditCatalog} on PostgreSQL (mirrors sqlite-audit.ts; no file snapshot). */
export class PgAudit implements AuditCatalog {
  constructor(private readonly db: PgDb) {}

  async integrity(): Promise<string[]> {
    // PostgreSQL checks its pages and enforces foreign keys itself; reachable is healthy.
    await this.db.get('SELECT 1');
    return [];
  }

  async blobPage(after: string, limit: number): Promise<BlobRow[]> {
    return this.db.all(
      'SELECT sha256, size, refs FROM blobs WHERE sha256 > $1 ORDER BY sha256 LIMIT $2',
      [after, limit],
    );
  }

  async blob(sha256: string): Promise<BlobRow | null> {
    return (
      (await this.db.get<BlobRow>('SELECT sha256, size, refs FROM blobs WHERE sha256 = $1', [
        sha256,
      ])) ?? null
    );
  }

  async artifactsWithoutBlobRow(limit: number): Promise<{ id: string; sha256: string }[]> {
    return this.db.all(
      `SELECT id, sha256 FROM artifacts a WHERE NOT EXISTS
         (SELECT 1 FROM blobs b WHERE b.sha256 = a.sha256) LIMIT $1`,
      [limit],
    );
  }

  async refMismatches(limit: number): Promise<RefMismatch[]> {
    return this.db.all(
      `SELECT b.sha256, b.refs AS stored, ${ACTUAL_REFS} AS actual FROM blobs b
       WHERE b.refs != ${ACTUAL_REFS} LIMIT $1`,
      [limit],
    );
  }

  async fixRefs(): Promise<number> {
    return this.db.tx((t) =>
      t.run(`UPDATE blobs AS b SET refs = ${ACTUAL_REFS} WHERE b.refs != ${ACTUAL_REFS}`),
    );
  }

  async sessionCountMismatches(limit: number): Promise<SessionCountMismatch[]> {
    const rows = await this.db.all<{
      id: string;
      count: number;
      bytes: number;
      actual_count: number;
      actual_bytes: number;
    }>(
      `SELECT id, count, bytes, actual_count, actual_bytes FROM (
         SELECT s.id, s.artifact_count AS count, s.total_bytes AS bytes,
                ${COUNTED_ARTIFACTS} AS actual_count, ${COUNTED_BYTES} AS actual_bytes
         FROM sessions s) x
       WHERE count != actual_count OR bytes != actual_bytes LIMIT $1`,
      [limit],
    );
    return rows.map((r) => ({
      id: r.id,
      stored: { count: r.count, bytes: r.bytes },
      actual: { count: r.actual_count, bytes: r.actual_bytes },
    }));
  }

  async fixSessionCounts(): Promise<number> {
    return this.db.tx((t) =>
      t.run(
        `UPDATE sessions AS s SET artifact_count = ${COUNTED_ARTIFACTS}, total_bytes = ${COUNTED_BYTES}
         WHERE s.artifact_count != ${COUNTED_ARTIFACTS} OR s.total_bytes != ${COUNTED_BYTES}`,
      ),
    );
  }

  async latestMismatches(limit: number): Promise<{ session: string; name: string }[]> {
    return this.db.all(`SELECT DISTINCT session, name FROM (${WRONG_LATEST}) w LIMIT $1`, [limit]);
  }

  async fixLatest(): Promise<number> {
    return this.db.tx((t) =>
      t.run(
        `UPDATE artifacts SET is_latest = 1 - is_latest WHERE seq IN (SELECT seq FROM (${WRONG_LATEST}) w)`,
      ),
    );
  }

  async sizeMismatches(limit: number): Promise<{ id: string; sha256: string }[]> {
    return this.db.all(
      `SELECT a.id, a.sha256 FROM artifacts a JOIN blobs b ON b.sha256 = a.sha256
       WHERE a.size != b.size LIMIT $1`,
      [limit],
    );
  }

  snapshot(): Promise<CatalogSnapshot> {
    return Promise.reject(
      new InvalidInputError(
        'snapshot_unsupported',
        'a PostgreSQL catalog is not copied into a file: back it up with pg_dump (or your PostgreSQL backups)',
      ),
    );
  }
}
