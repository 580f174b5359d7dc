import { isSessionLive, keepFor } from '../../core/lifecycle.js';
import { NotFoundError, SessionSealedError } from '../../lib/errors.js';
import type {
  RemovedRows,
  RetentionCatalog,
  RetentionPlan,
  SweepBatch,
} from '../retention-catalog.js';
import { sessionLife, toArtifact, type ArtifactRow, type SessionRow } from '../sqlite/rows.js';
import { Coalescer } from './pg-coalescer.js';
import { prepared, type PgDb, type Queryable } from './pg-db.js';
import { appendEvents } from './pg-event-rows.js';
import { artifactEventData } from '../event-payload.js';
import { dropRows, dropSomeRows, type RawRow } from './pg-row-drops.js';
import { liveSessionRow } from './pg-session-writes.js';
import { ARTIFACT_COLUMNS } from './pg-sql.js';

/** Artifacts that go with the sessions that expired at @now (never pinned ones). */
const IN_EXPIRED_SESSIONS = `SELECT a.sha256 FROM sessions s JOIN artifacts a ON a.session_seq = s.seq
  WHERE s.pinned = 0 AND s.expires_at IS NOT NULL AND s.expires_at <= @now`;

/** Artifacts that expired on their own at @now in a live session (see sqlite-retention.ts). */
const EXPIRED_ALONE = `FROM artifacts a JOIN sessions s ON s.seq = a.session_seq
  WHERE a.expires_at IS NOT NULL AND a.expires_at <= @now AND s.pinned = 0
    AND (s.expires_at IS NULL OR s.expires_at > @now)
    AND (s.sealed_at IS NULL OR a.expires_at <= s.sealed_at)`;

const EXPIRED_SESSIONS =
  'FROM sessions WHERE pinned = 0 AND expires_at IS NOT NULL AND expires_at <= $1';

/** {@link RetentionCatalog} on PostgreSQL (mirrors sqlite-retention.ts). */
export class PgRetention implements RetentionCatalog {
  /** Each session's keep_versions (undefined: no such session), read for many at once. */
  private readonly keeps: Coalescer<string, number | null | undefined>;

  constructor(private readonly db: PgDb) {
    this.keeps = new Coalescer(async (ids) => {
      const rows = await this.db.all<{ id: string; keep_versions: number | null }>(
        prepared('SELECT id, keep_versions FROM sessions WHERE id = ANY($1::text[])'),
        [[...new Set(ids)]],
      );
      const keep = new Map(rows.map((r) => [r.id, r.keep_versions]));
      return ids.map((id) => ({ ok: true as const, value: keep.get(id) }));
    });
  }

  async sweepExpired(now: number, limit: number): Promise<SweepBatch> {
    const empty: SweepBatch = { sessions: [], sessionArtifactRows: 0, artifacts: [], rows: 0 };
    if (!(await this.anythingExpired(now))) return empty;
    return this.db.tx(async (t) => {
      const out: SweepBatch = { sessions: [], sessionArtifactRows: 0, artifacts: [], rows: 0 };
      const sessions = await t.all<SessionRow>(
        `SELECT * ${EXPIRED_SESSIONS} ORDER BY expires_at LIMIT $2`,
        [now, limit],
      );
      for (const s of sessions) {
        const budget = limit - out.rows;
        if (budget <= 0) break;
        const rows = await t.all<RawRow>(
          'SELECT seq, session_seq, sha256, size FROM artifacts WHERE session_seq = $1 LIMIT $2',
          [s.seq, budget],
        );
        const { removed } = await dropRows(t, rows);
        out.rows += removed.length;
        out.sessionArtifactRows += removed.length;
        if (rows.length < budget) {
          if ((await t.run('DELETE FROM sessions WHERE seq = $1', [s.seq])) > 0) {
            out.sessions.push({ id: s.id, artifacts: s.artifact_count });
            out.rows += 1;
          }
        }
      }
      if (out.rows >= limit) return expired(t, out);
      const alone = await t.all<ArtifactRow & { session_seq: number }>(
        `SELECT ${ARTIFACT_COLUMNS}, a.session_seq ${EXPIRED_ALONE} LIMIT @limit`,
        { now, limit: limit - out.rows },
      );
      const { removed } = await dropSomeRows(t, alone);
      out.artifacts = removed.map(toArtifact);
      out.rows += removed.length;
      return expired(t, out);
    });
  }

  /** Cheap indexed check outside any transaction, so an idle sweep writes nothing. */
  private async anythingExpired(now: number): Promise<boolean> {
    if (await this.db.get(`SELECT 1 AS one ${EXPIRED_SESSIONS} LIMIT 1`, [now])) return true;
    return !!(await this.db.get(`SELECT 1 AS one ${EXPIRED_ALONE} LIMIT 1`, { now }));
  }

  async plan(now: number): Promise<RetentionPlan> {
    const sessions = (
      await this.db.all<{ id: string }>(
        `SELECT id ${EXPIRED_SESSIONS} ORDER BY expires_at LIMIT 1000`,
        [now],
      )
    ).map((r) => r.id);
    const sessionCount =
      (await this.db.get<{ n: number }>(`SELECT count(*) AS n ${EXPIRED_SESSIONS}`, [now]))?.n ?? 0;
    const doomed = `${IN_EXPIRED_SESSIONS} UNION ALL SELECT a.sha256 ${EXPIRED_ALONE}`;
    const artifacts =
      (await this.db.get<{ n: number }>(`SELECT count(*) AS n FROM (${doomed}) d`, { now }))?.n ??
      0;
    const freed = (await this.db.get<{ blobs: number; bytes: number }>(
      `WITH doomed AS (${doomed}),
            per AS (SELECT sha256, count(*) AS n FROM doomed GROUP BY sha256)
       SELECT count(*) AS blobs, coalesce(sum(size), 0) AS bytes FROM (
         SELECT b.sha256, b.size FROM per JOIN blobs b ON b.sha256 = per.sha256
         WHERE b.refs - per.n <= 0
         UNION
         SELECT sha256, size FROM blobs WHERE refs <= 0) f`,
      { now },
    )) ?? { blobs: 0, bytes: 0 };
    return { sessions, sessionCount, artifacts, blobs: freed.blobs, bytes: freed.bytes };
  }

  async unreferencedBlobs(limit: number, after = ''): Promise<{ sha256: string; size: number }[]> {
    return this.db.all(
      `SELECT sha256, size FROM blobs WHERE refs <= 0 AND sha256 > $2
       ORDER BY sha256 LIMIT $1`,
      [limit, after],
    );
  }

  async deleteSession(
    id: string,
    now: number,
  ): Promise<{ artifacts: number; unreferenced: string[] }> {
    return this.db.tx(
      async (t) => {
        const s = await liveSessionRow(t, id, now, true);
        if (!s) throw new NotFoundError(`session '${id}' not found (it may have expired)`);
        if (s.sealed_at !== null) throw new SessionSealedError(id);
        const rows = await t.all<RawRow>(
          'SELECT seq, session_seq, sha256, size FROM artifacts WHERE session_seq = $1',
          [s.seq],
        );
        const { removed, unreferenced } = await dropRows(t, rows);
        await t.run('DELETE FROM sessions WHERE seq = $1', [s.seq]);
        await appendEvents(t, [
          { type: 'session.deleted', session: id, data: { id, artifacts: removed.length } },
        ]);
        return { artifacts: removed.length, unreferenced };
      },
      { lock: [`s:${id}`] },
    );
  }

  async pruneVersions(
    session: string,
    name: string | null,
    defaultKeep: number | undefined,
    now: number,
  ): Promise<RemovedRows> {
    const none: RemovedRows = { removed: [], unreferenced: [] };
    // Most sessions keep every version: one read, no transaction, no row lock (what a push pays
    // after each row). A setting changed concurrently is either order's answer.
    const set = await this.keeps.run(session);
    if (set === undefined || keepFor(set, defaultKeep) === null) return none;
    return this.db.tx(
      async (t) => {
        const s = await t.get<SessionRow>('SELECT * FROM sessions WHERE id = $1 FOR UPDATE', [
          session,
        ]);
        const keep = keepFor(s?.keep_versions, defaultKeep);
        // pruneVictims: nothing in a sealed or expired session.
        if (!s || keep === null || s.sealed_at !== null || !isSessionLive(sessionLife(s), now))
          return none;
        // pruneVictims in SQL: only live versions take a place, ranked by version; expired ones
        // are the sweep's to remove.
        const rows = await t.all<ArtifactRow & { session_seq: number }>(
          `SELECT ${ARTIFACT_COLUMNS}, a.session_seq FROM (
           SELECT seq, row_number() OVER (PARTITION BY name ORDER BY version DESC) AS rank
           FROM artifacts WHERE session_seq = @seq AND (@name::text IS NULL OR name = @name::text)
             AND (@pinned::int = 1 OR expires_at IS NULL OR expires_at > @now)
         ) r JOIN artifacts a ON a.seq = r.seq JOIN sessions s ON s.seq = a.session_seq
         WHERE r.rank > @keep`,
          { seq: s.seq, name, keep, now, pinned: s.pinned },
        );
        if (rows.length === 0) return none;
        const { removed, unreferenced } = await dropSomeRows(t, rows);
        const artifacts = removed.map(toArtifact);
        await appendEvents(
          t,
          artifacts.map((a) => ({
            type: 'artifact.deleted',
            session: a.session,
            data: { ...artifactEventData(a), reason: 'pruned' },
          })),
        );
        return { removed: artifacts, unreferenced };
      },
      { lock: [`s:${session}`] },
    );
  }
}

/** Appends the events of a sweep batch, inside its transaction. */
async function expired(t: Queryable, out: SweepBatch): Promise<SweepBatch> {
  await appendEvents(t, [
    ...out.sessions.map((s) => ({ type: 'session.expired' as const, session: s.id, data: s })),
    ...out.artifacts.map((a) => ({
      type: 'artifact.deleted' as const,
      session: a.session,
      data: { ...artifactEventData(a), reason: 'expired' },
    })),
  ]);
  return out;
}
