import type Database from 'better-sqlite3';
import type { ArtifactQuery, Page, SessionQuery } from '../../core/types.js';
import type { StoredArtifact, StoredSession } from '../stored-rows.js';
import { queryArtifactRows } from './artifact-query-plan.js';
import type { MetaBitmaps } from './meta-bitmaps.js';
import { page, sessionQuerySql } from './query-sql.js';
import {
  ARTIFACT_COLUMNS,
  ARTIFACT_LIVE,
  NEWEST_LIVE,
  toArtifact,
  toSession,
  type ArtifactRow,
  type SessionRow,
} from './rows.js';

/**
 * The catalog reads a client can make expensive (a `where=` over every artifact, a session of
 * 100,000 artifacts, a long lineage), as plain functions of a connection: the read workers
 * (read-worker.ts) run them on their own read-only connections, and a write transaction that
 * needs one (sealing) runs it on the writer's.
 */
export const catalogReads = {
  queryArtifacts(
    db: Database.Database,
    q: ArtifactQuery,
    now: number,
    bitmaps?: MetaBitmaps,
  ): Page<StoredArtifact> {
    return page(queryArtifactRows(db, q, now, bitmaps), q.limit, toArtifact);
  },

  listSessions(db: Database.Database, q: SessionQuery, now: number): Page<StoredSession> {
    const sql = sessionQuerySql(q, now);
    const rows = db.prepare<Record<string, unknown>, SessionRow>(sql.text).all(sql.params);
    return page(rows, q.limit, toSession);
  },

  sessionArtifacts(db: Database.Database, id: string, now: number): StoredArtifact[] {
    return db
      .prepare<{ id: string; now: number }, ArtifactRow>(
        `SELECT ${ARTIFACT_COLUMNS} FROM artifacts a JOIN sessions s ON s.seq = a.session_seq
         WHERE s.id = @id AND ${ARTIFACT_LIVE} ORDER BY a.name, a.version`,
      )
      .all({ id, now })
      .map(toArtifact);
  },

  /** See Catalog.latestLines. */
  latestLines(
    db: Database.Database,
    id: string,
    now: number,
    after: string,
    limit: number,
  ): string {
    const rows = db
      .prepare<{ id: string; now: number; after: string; limit: number }, [string, string]>(
        `SELECT a.sha256, a.name FROM artifacts a JOIN sessions s ON s.seq = a.session_seq
         WHERE s.id = @id AND a.name > @after AND ${ARTIFACT_LIVE} AND ${NEWEST_LIVE}
         ORDER BY a.name LIMIT @limit`,
      )
      .raw()
      .all({ id, now, after, limit });
    let text = '';
    for (const [sha256, name] of rows) text += `${sha256} ${name}\n`;
    return text;
  },

  derivedFrom(db: Database.Database, id: string, now: number): StoredArtifact[] {
    return db
      .prepare<{ id: string; now: number }, ArtifactRow>(
        `SELECT ${ARTIFACT_COLUMNS} FROM lineage l JOIN artifacts a ON a.seq = l.child_seq
         JOIN sessions s ON s.seq = a.session_seq WHERE l.parent_id = @id AND ${ARTIFACT_LIVE} ORDER BY a.seq`,
      )
      .all({ id, now })
      .map(toArtifact);
  },
};

/** The name of one read in {@link catalogReads}. */
export type CatalogRead = keyof typeof catalogReads;
