import type Database from 'better-sqlite3';
import type { StoredArtifact, StoredSession } from '../stored-rows.js';
import {
  ARTIFACT_COLUMNS,
  ARTIFACT_LIVE,
  liveSessionRow,
  toArtifact,
  toSession,
  type ArtifactRow,
} from './rows.js';

/**
 * The catalog's point lookups (a session, an artifact, a blob row), answered synchronously on
 * the writer's connection (SqliteCatalog wraps them in promises); queries a client can make
 * expensive run on the read workers instead (see ReadPool). Never returns what expired before
 * `now`.
 */
export class SqliteReads {
  constructor(private readonly db: Database.Database) {}

  /** The session `id`, or null if unknown or expired before `now`. */
  getSession(id: string, now: number): StoredSession | null {
    const row = liveSessionRow(this.db, id, now);
    return row ? toSession(row) : null;
  }

  /** The artifact `id`, or null if unknown or no longer live at `now`. */
  getArtifact(id: string, now: number): StoredArtifact | null {
    const row = this.db
      .prepare<{ id: string; now: number }, ArtifactRow>(
        `SELECT ${ARTIFACT_COLUMNS} FROM artifacts a JOIN sessions s ON s.seq = a.session_seq WHERE a.id = @id AND ${ARTIFACT_LIVE}`,
      )
      .get({ id, now });
    return row ? toArtifact(row) : null;
  }

  /**
   * `session/name` at `version`, or its newest version still live at `now` when `version` is
   * undefined; null if there is none.
   */
  findArtifact(
    session: string,
    name: string,
    version: number | undefined,
    now: number,
  ): StoredArtifact | null {
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

  /** The reference count of blob `sha256` (its `refs` column); 0 for an unknown blob. */
  blobRefs(sha256: string): number {
    const row = this.db
      .prepare<[string], { refs: number }>('SELECT refs FROM blobs WHERE sha256 = ?')
      .get(sha256);
    return row?.refs ?? 0;
  }

  /** Every blob row (hash, size, reference count), streamed from the writer's connection. */
  *listBlobs(): Iterable<{ sha256: string; size: number; refs: number }> {
    yield* this.db
      .prepare<[], { sha256: string; size: number; refs: number }>(
        'SELECT sha256, size, refs FROM blobs',
      )
      .iterate();
  }
}
