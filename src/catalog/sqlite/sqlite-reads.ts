import type Database from 'better-sqlite3';
import type {
  ArtifactQuery,
  ArtifactRecord,
  Page,
  SessionQuery,
  SessionRecord,
} from '../../core/types.js';
import { queryArtifactRows } from './artifact-query-plan.js';
import type { MetaBitmaps } from './meta-bitmaps.js';
import { encodeCursor, sessionQuerySql } from './query-sql.js';
import {
  ARTIFACT_COLUMNS,
  ARTIFACT_LIVE,
  liveSessionRow,
  toArtifact,
  toSession,
  type ArtifactRow,
  type SessionRow,
} from './rows.js';

/**
 * The catalog's reads of sessions, artifacts and blob rows, answered synchronously from the
 * database (SqliteCatalog wraps them in promises). Never returns what expired before `now`.
 */
export class SqliteReads {
  constructor(
    private readonly db: Database.Database,
    private readonly bitmaps: MetaBitmaps,
  ) {}

  getSession(id: string, now: number): SessionRecord | null {
    const row = liveSessionRow(this.db, id, now);
    return row ? toSession(row) : null;
  }

  listSessions(q: SessionQuery, now: number): Page<SessionRecord> {
    const sql = sessionQuerySql(q, now);
    const rows = this.db.prepare<Record<string, unknown>, SessionRow>(sql.text).all(sql.params);
    return page(rows, q.limit, toSession);
  }

  /** Every live artifact of a session (all versions), sorted by name then version. */
  sessionArtifacts(id: string, now: number): ArtifactRecord[] {
    return this.db
      .prepare<{ id: string; now: number }, ArtifactRow>(
        `SELECT ${ARTIFACT_COLUMNS} FROM artifacts a JOIN sessions s ON s.seq = a.session_seq
         WHERE s.id = @id AND ${ARTIFACT_LIVE} ORDER BY a.name, a.version`,
      )
      .all({ id, now })
      .map(toArtifact);
  }

  getArtifact(id: string, now: number): ArtifactRecord | null {
    const row = this.db
      .prepare<{ id: string; now: number }, ArtifactRow>(
        `SELECT ${ARTIFACT_COLUMNS} FROM artifacts a JOIN sessions s ON s.seq = a.session_seq WHERE a.id = @id AND ${ARTIFACT_LIVE}`,
      )
      .get({ id, now });
    return row ? toArtifact(row) : null;
  }

  findArtifact(
    session: string,
    name: string,
    version: number | undefined,
    now: number,
  ): ArtifactRecord | null {
    // Without a version: the newest one still live (the newest row may have expired).
    const which = version === undefined ? '' : 'AND a.version = @version';
    const row = this.db
      .prepare<Record<string, unknown>, ArtifactRow>(
        `SELECT ${ARTIFACT_COLUMNS} FROM artifacts a JOIN sessions s ON s.seq = a.session_seq
         WHERE s.id = @session AND a.name = @name ${which} AND ${ARTIFACT_LIVE}
         ORDER BY a.version DESC LIMIT 1`,
      )
      .get({ session, name, version, now });
    return row ? toArtifact(row) : null;
  }

  queryArtifacts(q: ArtifactQuery, now: number): Page<ArtifactRecord> {
    return page(queryArtifactRows(this.db, q, now, this.bitmaps), q.limit, toArtifact);
  }

  derivedFrom(id: string, now: number): ArtifactRecord[] {
    return this.db
      .prepare<{ id: string; now: number }, ArtifactRow>(
        `SELECT ${ARTIFACT_COLUMNS} FROM lineage l JOIN artifacts a ON a.seq = l.child_seq
         JOIN sessions s ON s.seq = a.session_seq WHERE l.parent_id = @id AND ${ARTIFACT_LIVE} ORDER BY a.seq`,
      )
      .all({ id, now })
      .map(toArtifact);
  }

  blobRefs(sha256: string): number {
    const row = this.db
      .prepare<[string], { refs: number }>('SELECT refs FROM blobs WHERE sha256 = ?')
      .get(sha256);
    return row?.refs ?? 0;
  }

  *listBlobs(): Iterable<{ sha256: string; size: number; refs: number }> {
    yield* this.db
      .prepare<[], { sha256: string; size: number; refs: number }>(
        'SELECT sha256, size, refs FROM blobs',
      )
      .iterate();
  }
}

function page<R extends { seq: number }, T>(rows: R[], limit: number, map: (r: R) => T): Page<T> {
  const more = rows.length > limit;
  const items = more ? rows.slice(0, limit) : rows;
  return {
    items: items.map(map),
    next_cursor: more ? encodeCursor(items[items.length - 1].seq) : null,
  };
}
