import type Database from 'better-sqlite3';
import { NotFoundError, SessionSealedError } from '../../lib/errors.js';
import type {
  RemovedRows,
  RetentionCatalog,
  RetentionPlan,
  SweepBatch,
} from '../retention-catalog.js';
import {
  ARTIFACT_COLUMNS,
  KEEP_VERSION_NUMBER,
  toArtifact,
  type ArtifactRow,
  type SessionRow,
  liveSessionRow,
} from './rows.js';
import type { WriteBatcher } from './write-batcher.js';

/** The columns row removal needs. */
interface RawRow {
  seq: number;
  session_seq: number;
  sha256: string;
  size: number;
}

/** Artifacts that go with the sessions that expired at @now (never pinned ones). */
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
 * Deletes artifact rows and drops one blob reference each (running `before` on each row first);
 * returns the blobs that lost their last reference (their rows stay, at refs 0, until collected
 * under the blob lock). For whole sessions; see dropSomeRows for rows of one that stays.
 */
function dropRows<R extends RawRow>(
  db: Database.Database,
  rows: R[],
  before?: (r: R) => void,
): string[] {
  const del = db.prepare('DELETE FROM artifacts WHERE seq = ?');
  const unref = db.prepare<[string], { refs: number }>(
    'UPDATE blobs SET refs = refs - 1 WHERE sha256 = ? RETURNING refs',
  );
  const unreferenced: string[] = [];
  for (const r of rows) {
    before?.(r);
    del.run(r.seq);
    if ((unref.get(r.sha256)?.refs ?? 0) <= 0) unreferenced.push(r.sha256);
  }
  return unreferenced;
}

/**
 * {@link dropRows} for some rows of sessions that stay (expired alone, pruned): the counters of
 * an open session drop, a deleted newest version keeps its number used, and the newest
 * remaining version of each name becomes its latest.
 */
function dropSomeRows(
  db: Database.Database,
  rows: (RawRow & { name: string; version: number })[],
): string[] {
  const counters = db.prepare(
    // A sealed session's counters hold what its manifest holds (see COUNTED): left alone.
    'UPDATE sessions SET artifact_count = artifact_count - 1, total_bytes = total_bytes - ? WHERE seq = ? AND sealed_at IS NULL',
  );
  const keep = db.prepare(KEEP_VERSION_NUMBER);
  const names = new Map<number, Set<string>>();
  const unreferenced = dropRows(db, rows, (r) => {
    keep.run({ seq: r.session_seq, name: r.name, version: r.version });
    counters.run(r.size, r.session_seq);
    names.set(r.session_seq, (names.get(r.session_seq) ?? new Set()).add(r.name));
  });
  const promote = db.prepare(
    `UPDATE artifacts SET is_latest = 1 WHERE is_latest = 0 AND seq = (
       SELECT seq FROM artifacts WHERE session_seq = ? AND name = ? ORDER BY version DESC LIMIT 1)`,
  );
  for (const [seq, set] of names) for (const name of set) promote.run(seq, name);
  return unreferenced;
}

const purgeStatements = new WeakMap<Database.Database, ReturnType<typeof preparePurge>>();

function preparePurge(db: Database.Database) {
  return {
    session: db.prepare<[string], SessionRow>('SELECT * FROM sessions WHERE id = ?'),
    rows: db.prepare<[number], RawRow>(
      'SELECT seq, session_seq, sha256, size FROM artifacts WHERE session_seq = ?',
    ),
    deleteSession: db.prepare('DELETE FROM sessions WHERE seq = ?'),
  };
}

/** True if a session's own TTL has passed at `now` and it is not pinned. */
export function isSessionExpired(
  s: { pinned: number; expires_at: number | null },
  now: number,
): boolean {
  return s.pinned !== 1 && s.expires_at !== null && s.expires_at <= now;
}

/**
 * If session `id` exists but expired at `now` (and is not pinned), removes it with all its
 * artifacts inside the caller's transaction and returns true, so the id can be used afresh.
 * Blobs it leaves unreferenced are collected by the next sweep.
 */
export function purgeIfExpired(db: Database.Database, id: string, now: number): boolean {
  let st = purgeStatements.get(db);
  if (!st) purgeStatements.set(db, (st = preparePurge(db)));
  const s = st.session.get(id);
  if (!s || !isSessionExpired(s, now)) return false;
  dropRows(db, st.rows.all(s.seq));
  st.deleteSession.run(s.seq);
  return true;
}

/**
 * The expiry a session gets when it is sealed, so that it expires whole: its own TTL if it has
 * one, else when the longest-lived of its live artifacts would have (never, if one has no TTL).
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
        dropRows(this.db, rows);
        out.rows += rows.length;
        out.sessionArtifactRows += rows.length;
        if (rows.length < budget) {
          this.db.prepare('DELETE FROM sessions WHERE seq = ?').run(s.seq);
          out.sessions.push({ id: s.id, artifacts: s.artifact_count });
          out.rows += 1;
        }
      }
      if (out.rows >= limit) return out;
      const alone = this.db
        .prepare<{ now: number; limit: number }, ArtifactRow & { session_seq: number }>(
          `SELECT ${ARTIFACT_COLUMNS}, a.session_seq ${EXPIRED_ALONE} LIMIT @limit`,
        )
        .all({ now, limit: limit - out.rows });
      dropSomeRows(this.db, alone);
      out.artifacts = alone.map(toArtifact);
      out.rows += alone.length;
      return out;
    });
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

  async unreferencedBlobs(limit: number): Promise<{ sha256: string; size: number }[]> {
    return this.db
      .prepare<[number], { sha256: string; size: number }>(
        'SELECT sha256, size FROM blobs WHERE refs <= 0 LIMIT ?',
      )
      .all(limit);
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
      const unreferenced = dropRows(this.db, rows);
      this.db.prepare('DELETE FROM sessions WHERE seq = ?').run(s.seq);
      return { artifacts: rows.length, unreferenced };
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
        .prepare<
          [string],
          { seq: number; keep_versions: number | null; sealed_at: number | null; pinned: number }
        >('SELECT seq, keep_versions, sealed_at, pinned FROM sessions WHERE id = ?')
        .get(session);
      const keep = s?.keep_versions ?? defaultKeep;
      if (!s || !keep || s.sealed_at !== null) return [];
      return this.db
        .prepare<
          { seq: number; name: string | null; keep: number; now: number; pinned: number },
          ArtifactRow & { session_seq: number }
        >(
          // Only live versions take a place: expired ones are the sweep's to remove.
          `SELECT ${ARTIFACT_COLUMNS}, a.session_seq FROM (
             SELECT seq, row_number() OVER (PARTITION BY name ORDER BY version DESC) AS rank
             FROM artifacts WHERE session_seq = @seq AND (@name IS NULL OR name = @name)
               AND (@pinned = 1 OR expires_at IS NULL OR expires_at > @now)
           ) r JOIN artifacts a ON a.seq = r.seq JOIN sessions s ON s.seq = a.session_seq
           WHERE r.rank > @keep`,
        )
        .all({ seq: s.seq, name, keep, now, pinned: s.pinned });
    };
    if (select().length === 0) return none;
    return this.batch.run(() => {
      const rows = select();
      const unreferenced = dropSomeRows(this.db, rows);
      return { removed: rows.map(toArtifact), unreferenced };
    });
  }
}
