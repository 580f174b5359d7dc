import type Database from 'better-sqlite3';
import { isSessionLive, keepFor } from '../../core/lifecycle.js';
import { NotFoundError, SessionSealedError } from '../../lib/errors.js';
import type {
  RemovedRows,
  RetentionCatalog,
  RetentionPlan,
  SweepBatch,
} from '../retention-catalog.js';
import { dropRows, dropSomeRows, type RawRow } from './row-drops.js';
import {
  ARTIFACT_COLUMNS,
  toArtifact,
  type ArtifactRow,
  type SessionRow,
  liveSessionRow,
  sessionLife,
} from './rows.js';
import type { WriteBatcher } from './write-batcher.js';
import { appendEvent } from './event-rows.js';
import { artifactEventData } from '../event-payload.js';

/**
 * Artifacts that go with the sessions that expired at @now (never pinned ones). With
 * EXPIRED_ALONE, the sweepVictims rule of core/lifecycle.ts in SQL.
 */
const IN_EXPIRED_SESSIONS = `SELECT a.sha256 FROM sessions s JOIN artifacts a ON a.session_seq = s.seq
  WHERE s.pinned = 0 AND s.expires_at IS NOT NULL AND s.expires_at <= @now`;

/**
 * Artifacts that expired on their own at @now in a live session: any in an open session, and in
 * a sealed one only those already expired when it was sealed (a sealed session expires whole).
 */
const EXPIRED_ALONE = `FROM artifacts a JOIN sessions s ON s.seq = a.session_seq
  WHERE a.expires_at IS NOT NULL AND a.expires_at <= @now AND s.pinned = 0
    AND (s.expires_at IS NULL OR s.expires_at > @now)
    AND (s.sealed_at IS NULL OR a.expires_at <= s.sealed_at)`;

/**
 * The expiry a session gets when it is sealed, so that it expires whole (sealedSessionExpiry
 * of core/lifecycle.ts, in SQL; run after the pinned rows' own expiries were set).
 */
export function sealedExpiry(db: Database.Database, seq: number, now: number): number | null {
  const s = db
    .prepare<[number], { expires_at: number | null }>(
      'SELECT expires_at FROM sessions WHERE seq = ?',
    )
    .get(seq);
  if (s?.expires_at != null) return s.expires_at;
  const r = db
    .prepare<[number, number], { n: number; forever: number | null; last: number | null }>(
      `SELECT count(*) AS n, sum(expires_at IS NULL) AS forever, max(expires_at) AS last
       FROM artifacts WHERE session_seq = ? AND (expires_at IS NULL OR expires_at > ?)`,
    )
    .get(seq, now);
  if (!r || r.n === 0 || (r.forever ?? 0) > 0) return null;
  return r.last;
}

/** {@link RetentionCatalog} over the SQLite catalog's connection and write batcher. */
export class SqliteRetention implements RetentionCatalog {
  constructor(
    private readonly db: Database.Database,
    private readonly batch: WriteBatcher,
  ) {}

  async sweepExpired(now: number, limit: number): Promise<SweepBatch> {
    const out: SweepBatch = { sessions: [], sessionArtifactRows: 0, artifacts: [], rows: 0 };
    if (!this.anythingExpired(now)) return out;
    return this.batch.run(() => {
      const sessions = this.db
        .prepare<[number, number], SessionRow>(
          `SELECT * FROM sessions WHERE pinned = 0 AND expires_at IS NOT NULL AND expires_at <= ?
           ORDER BY expires_at LIMIT ?`,
        )
        .all(now, limit);
      for (const s of sessions) {
        const budget = limit - out.rows;
        if (budget <= 0) break;
        const rows = this.db
          .prepare<[number, number], RawRow>(
            'SELECT seq, session_seq, sha256, size FROM artifacts WHERE session_seq = ? LIMIT ?',
          )
          .all(s.seq, budget);
        const { removed } = dropRows(this.db, rows);
        out.rows += removed.length;
        out.sessionArtifactRows += removed.length;
        if (rows.length < budget) {
          if (this.db.prepare('DELETE FROM sessions WHERE seq = ?').run(s.seq).changes > 0) {
            out.sessions.push({ id: s.id, artifacts: s.artifact_count });
            out.rows += 1;
          }
        }
      }
      if (out.rows >= limit) return this.expired(out);
      const alone = this.db
        .prepare<{ now: number; limit: number }, ArtifactRow & { session_seq: number }>(
          `SELECT ${ARTIFACT_COLUMNS}, a.session_seq ${EXPIRED_ALONE} LIMIT @limit`,
        )
        .all({ now, limit: limit - out.rows });
      const { removed } = dropSomeRows(this.db, alone);
      out.artifacts = removed.map(toArtifact);
      out.rows += removed.length;
      return this.expired(out);
    });
  }

  /** Appends the events of a sweep batch, inside its transaction. */
  private expired(out: SweepBatch): SweepBatch {
    for (const s of out.sessions) appendEvent(this.db, 'session.expired', s.id, s);
    for (const a of out.artifacts)
      appendEvent(this.db, 'artifact.deleted', a.session, {
        ...artifactEventData(a),
        reason: 'expired',
      });
    return out;
  }

  /** Cheap indexed check, outside any transaction, so an idle sweep costs no commit. */
  private anythingExpired(now: number): boolean {
    const session = this.db
      .prepare<[number], { one: number }>(
        'SELECT 1 AS one FROM sessions WHERE pinned = 0 AND expires_at IS NOT NULL AND expires_at <= ? LIMIT 1',
      )
      .get(now);
    if (session) return true;
    return !!this.db
      .prepare<{ now: number }, { one: number }>(`SELECT 1 AS one ${EXPIRED_ALONE} LIMIT 1`)
      .get({ now });
  }

  async plan(now: number): Promise<RetentionPlan> {
    const sessions = this.db
      .prepare<[number], { id: string }>(
        `SELECT id FROM sessions WHERE pinned = 0 AND expires_at IS NOT NULL AND expires_at <= ?
         ORDER BY expires_at LIMIT 1000`,
      )
      .all(now)
      .map((r) => r.id);
    const sessionCount =
      this.db
        .prepare<[number], { n: number }>(
          'SELECT count(*) AS n FROM sessions WHERE pinned = 0 AND expires_at IS NOT NULL AND expires_at <= ?',
        )
        .get(now)?.n ?? 0;
    const doomed = `${IN_EXPIRED_SESSIONS} UNION ALL SELECT a.sha256 ${EXPIRED_ALONE}`;
    const artifacts =
      this.db
        .prepare<{ now: number }, { n: number }>(`SELECT count(*) AS n FROM (${doomed})`)
        .get({ now })?.n ?? 0;
    // A blob is freed only when every artifact that references it goes: dedupe counted.
    const freed = this.db
      .prepare<{ now: number }, { blobs: number; bytes: number }>(
        `WITH doomed AS (${doomed}),
              per AS (SELECT sha256, count(*) AS n FROM doomed GROUP BY sha256)
         SELECT count(*) AS blobs, coalesce(sum(size), 0) AS bytes FROM (
           SELECT b.sha256, b.size FROM per JOIN blobs b ON b.sha256 = per.sha256
           WHERE b.refs - per.n <= 0
           UNION
           SELECT sha256, size FROM blobs WHERE refs <= 0)`,
      )
      .get({ now }) ?? { blobs: 0, bytes: 0 };
    return { sessions, sessionCount, artifacts, blobs: freed.blobs, bytes: freed.bytes };
  }

  async unreferencedBlobs(limit: number, after = ''): Promise<{ sha256: string; size: number }[]> {
    return this.db
      .prepare<[string, number], { sha256: string; size: number }>(
        'SELECT sha256, size FROM blobs WHERE refs <= 0 AND sha256 > ? ORDER BY sha256 LIMIT ?',
      )
      .all(after, limit);
  }

  async deleteSession(
    id: string,
    now: number,
  ): Promise<{ artifacts: number; unreferenced: string[] }> {
    return this.batch.run(() => {
      const s = liveSessionRow(this.db, id, now);
      if (!s) throw new NotFoundError(`session '${id}' not found (it may have expired)`);
      if (s.sealed_at !== null) throw new SessionSealedError(id);
      const rows = this.db
        .prepare<[number], RawRow>(
          'SELECT seq, session_seq, sha256, size FROM artifacts WHERE session_seq = ?',
        )
        .all(s.seq);
      const { removed, unreferenced } = dropRows(this.db, rows);
      this.db.prepare('DELETE FROM sessions WHERE seq = ?').run(s.seq);
      appendEvent(this.db, 'session.deleted', id, { id, artifacts: removed.length });
      return { artifacts: removed.length, unreferenced };
    });
  }

  async pruneVersions(
    session: string,
    name: string | null,
    defaultKeep: number | undefined,
    now: number,
  ): Promise<RemovedRows> {
    const none: RemovedRows = { removed: [], unreferenced: [] };
    const select = () => {
      const s = this.db
        .prepare<[string], SessionRow>('SELECT * FROM sessions WHERE id = ?')
        .get(session);
      const keep = keepFor(s?.keep_versions, defaultKeep);
      // pruneVictims: nothing in a sealed or expired session.
      if (!s || keep === null || s.sealed_at !== null || !isSessionLive(sessionLife(s), now))
        return [];
      return this.db
        .prepare<
          { seq: number; name: string | null; keep: number; now: number; pinned: number },
          ArtifactRow & { session_seq: number }
        >(
          // pruneVictims in SQL: only live versions take a place, ranked by version; expired
          // ones are the sweep's to remove.
          `SELECT ${ARTIFACT_COLUMNS}, a.session_seq FROM (
             SELECT seq, row_number() OVER (PARTITION BY name ORDER BY version DESC) AS rank
             FROM artifacts WHERE session_seq = @seq AND (@name IS NULL OR name = @name)
               AND (@pinned = 1 OR expires_at IS NULL OR expires_at > @now)
           ) r JOIN artifacts a ON a.seq = r.seq JOIN sessions s ON s.seq = a.session_seq
           WHERE r.rank > @keep`,
        )
        .all({ seq: s.seq, name, keep, now, pinned: s.pinned });
    };
    // Chosen outside the write transaction (no write lock held while ranking versions), as
    // another writer may interleave: rows it removed meanwhile are skipped by dropSomeRows
    // (DELETE … RETURNING), and a session sealed meanwhile keeps everything.
    const rows = select();
    if (rows.length === 0) return none;
    return this.batch.run(() => {
      const s = this.db
        .prepare<[number], { sealed_at: number | null }>(
          'SELECT sealed_at FROM sessions WHERE seq = ?',
        )
        .get(rows[0].session_seq);
      if (!s || s.sealed_at !== null) return none;
      const { removed, unreferenced } = dropSomeRows(this.db, rows);
      const artifacts = removed.map(toArtifact);
      for (const a of artifacts)
        appendEvent(this.db, 'artifact.deleted', a.session, {
          ...artifactEventData(a),
          reason: 'pruned',
        });
      return { removed: artifacts, unreferenced };
    });
  }
}
