import type Database from 'better-sqlite3';
import {
  BlobCollectedError,
  InvalidInputError,
  NotFoundError,
  SessionSealedError,
} from '../../lib/errors.js';
import { artifactExpiry } from '../../core/lifecycle.js';
import type { NewArtifact } from '../catalog.js';
import {
  ARTIFACT_COLUMNS,
  ARTIFACT_LIVE,
  NEXT_VERSION,
  sessionLife,
  type ArtifactRow,
  type SessionRow,
} from './rows.js';
import type { MetaBitmaps } from './meta-bitmaps.js';
import { isSessionExpired, purgeIfExpired } from './row-drops.js';

/**
 * The write half of the artifact table, as synchronous statements run inside the caller's
 * transaction (the WriteBatcher's savepoint).
 */
export class ArtifactWrites {
  private readonly s;

  constructor(
    private readonly db: Database.Database,
    private readonly bitmaps: MetaBitmaps,
  ) {
    this.s = {
      // Only what a push needs: every column read costs (SELECT * was ~2x this per push).
      session: db.prepare<[string], PushSession>(
        'SELECT seq, pinned, expires_at, sealed_at FROM sessions WHERE id = ?',
      ),
      createSession: db.prepare(
        `INSERT INTO sessions (id, meta, created_at, updated_at, expires_at) VALUES (?, '{}', ?, ?, ?)`,
      ),
      nextVersion: db.prepare<{ seq: number; name: string }, { version: number }>(NEXT_VERSION),
      unsetLatest: db.prepare(
        'UPDATE artifacts SET is_latest = 0 WHERE session_seq = ? AND name = ? AND is_latest = 1',
      ),
      insert: db.prepare(
        `INSERT INTO artifacts (id, session_seq, name, version, sha256, size, content_type, meta, created_at, expires_at, is_latest)
         VALUES (@id, @sessionSeq, @name, @version, @sha256, @size, @contentType, @meta, @createdAt, @expiresAt, 1)`,
      ),
      meta: db.prepare('INSERT INTO artifact_meta (key, value, artifact_seq) VALUES (?, ?, ?)'),
      // Live at the push: an expired parent would be a dangling edge at once.
      parentLive: db.prepare<{ id: string; now: number; glob: string | null }, { one: number }>(
        `SELECT 1 AS one FROM artifacts a JOIN sessions s ON s.seq = a.session_seq
         WHERE a.id = @id AND ${ARTIFACT_LIVE} AND (@glob IS NULL OR s.id GLOB @glob)`,
      ),
      lineage: db.prepare('INSERT OR IGNORE INTO lineage (child_seq, parent_id) VALUES (?, ?)'),
      // A marked row is being collected: its bytes may be gone (see BlobCatalog.markBlob).
      blobRef: db.prepare(
        `INSERT INTO blobs (sha256, size, refs) VALUES (?, ?, 1)
         ON CONFLICT(sha256) DO UPDATE SET refs = refs + 1 WHERE gc_mark IS NULL`,
      ),
      releaseLease: db.prepare('DELETE FROM blob_leases WHERE id = ?'),
      blobUnref: db.prepare<[string], { refs: number }>(
        'UPDATE blobs SET refs = refs - 1 WHERE sha256 = ? RETURNING refs',
      ),
      // Only a row this statement removed gives its reference back (see dropRows).
      deleteRow: db.prepare<[number], { sha256: string; size: number }>(
        'DELETE FROM artifacts WHERE seq = ? RETURNING sha256, size',
      ),
      sessionCounts: db.prepare(
        'UPDATE sessions SET artifact_count = artifact_count + ?, total_bytes = total_bytes + ?, updated_at = ? WHERE seq = ?',
      ),
      liveBySeq: db.prepare<{ seq: number; now: number }, ArtifactRow>(
        `SELECT ${ARTIFACT_COLUMNS} FROM artifacts a JOIN sessions s ON s.seq = a.session_seq
         WHERE a.seq = @seq AND ${ARTIFACT_LIVE}`,
      ),
      rawById: db.prepare<
        [string],
        {
          seq: number;
          session_seq: number;
          name: string;
          sha256: string;
          size: number;
          version: number;
          is_latest: number;
        }
      >(
        'SELECT seq, session_seq, name, sha256, size, version, is_latest FROM artifacts WHERE id = ?',
      ),
      sessionBySeq: db.prepare<[number], SessionRow>('SELECT * FROM sessions WHERE seq = ?'),
      promoteLatest: db.prepare(
        `UPDATE artifacts SET is_latest = 1 WHERE seq = (
           SELECT seq FROM artifacts WHERE session_seq = ? AND name = ? ORDER BY version DESC LIMIT 1)`,
      ),
    };
  }

  /** Inserts an artifact (creating its session if needed); returns the new row. */
  add(a: NewArtifact): ArtifactRow {
    let session = this.s.session.get(a.session);
    // A session that expired but was not swept yet is gone for readers: start the id afresh.
    if (session && isSessionExpired(session, a.createdAt)) {
      purgeIfExpired(this.db, a.session, a.createdAt);
      session = undefined;
    }
    if (!session) {
      this.s.createSession.run(a.session, a.createdAt, a.createdAt, a.sessionExpiresAt);
      session = this.s.session.get(a.session) as PushSession;
    }
    if (session.sealed_at !== null) throw new SessionSealedError(a.session);
    for (const parent of a.derivedFrom) {
      const glob = a.parentSessions ?? null;
      if (!this.s.parentLive.get({ id: parent, now: a.createdAt, glob })) {
        throw new InvalidInputError(
          'invalid_derived_from',
          `derived_from names '${parent}', which is not a known artifact id (or it has expired)`,
        );
      }
    }
    const { version } = this.s.nextVersion.get({ seq: session.seq, name: a.name }) as {
      version: number;
    };
    if (version > 1) this.s.unsetLatest.run(session.seq, a.name);
    if (this.s.blobRef.run(a.sha256, a.size).changes === 0) throw new BlobCollectedError(a.sha256);
    if (a.leaseId !== undefined) this.s.releaseLease.run(a.leaseId);
    const meta = JSON.stringify(a.meta);
    const seq = Number(
      this.s.insert.run({
        id: a.id,
        sessionSeq: session.seq,
        name: a.name,
        version,
        sha256: a.sha256,
        size: a.size,
        contentType: a.contentType,
        meta,
        createdAt: a.createdAt,
        expiresAt: a.expiresAt,
      }).lastInsertRowid,
    );
    for (const [k, v] of Object.entries(a.meta)) this.s.meta.run(k, v, seq);
    this.bitmaps.added(seq, a.meta);
    const parents = [...new Set(a.derivedFrom)];
    for (const parent of parents) this.s.lineage.run(seq, parent);
    this.s.sessionCounts.run(1, a.size, a.createdAt, session.seq);
    // The row as ARTIFACT_COLUMNS would read it back (an open session), without the query.
    return {
      seq,
      id: a.id,
      session: a.session,
      name: a.name,
      version,
      sha256: a.sha256,
      size: a.size,
      content_type: a.contentType,
      meta,
      created_at: a.createdAt,
      expires_at: artifactExpiry(sessionLife(session), { version, expiresAt: a.expiresAt }),
      derived_from: parents.length > 0 ? JSON.stringify(parents) : null,
    };
  }

  /**
   * Deletes a live artifact of an open session (NotFoundError if it is not live at `now`).
   * Returns its row (read before deletion) and whether its blob lost its last reference.
   */
  remove(id: string, now: number): { row: ArtifactRow; unreferenced: boolean } {
    const raw = this.s.rawById.get(id);
    // An expired row is gone for reads: deleting it is not found, whether swept yet or not.
    const row = raw && this.s.liveBySeq.get({ seq: raw.seq, now });
    if (!raw || !row) throw new NotFoundError(`artifact '${id}' not found`);
    const session = this.s.sessionBySeq.get(raw.session_seq) as SessionRow;
    if (session.sealed_at !== null) throw new SessionSealedError(session.id);
    const gone = this.s.deleteRow.get(raw.seq);
    if (!gone) throw new NotFoundError(`artifact '${id}' not found`);
    if (raw.is_latest) this.s.promoteLatest.run(raw.session_seq, raw.name);
    this.s.sessionCounts.run(-1, -gone.size, now, raw.session_seq);
    const refs = this.s.blobUnref.get(gone.sha256)?.refs ?? 0;
    return { row, unreferenced: refs <= 0 };
  }
}

/** The columns of a session a push reads. */
type PushSession = Pick<SessionRow, 'seq' | 'pinned' | 'expires_at' | 'sealed_at'>;
