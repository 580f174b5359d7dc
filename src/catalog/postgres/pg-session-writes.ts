import type { StoredArtifact, StoredSession } from '../stored-rows.js';
import type { Meta } from '../../core/validate.js';
import { ConflictError, NotFoundError, SessionSealedError } from '../../lib/errors.js';
import { toArtifact, toSession, type ArtifactRow, type SessionRow } from '../sqlite/rows.js';
import type { NewSession, SessionPatch } from '../sqlite/session-writes.js';
import type { Queryable } from './pg-db.js';
import { pgText } from './pg-glob.js';
import { dropSomeRows, purgeIfExpired, type RawRow } from './pg-row-drops.js';
import {
  ARTIFACT_COLUMNS,
  ARTIFACT_LIVE,
  COUNTED_ARTIFACTS,
  COUNTED_BYTES,
  SESSION_LIVE,
} from './pg-sql.js';

/** The session row with this id if it exists and has not expired at `now`. */
export async function liveSessionRow(
  t: Queryable,
  id: string,
  now: number,
  lock = false,
): Promise<SessionRow | undefined> {
  return t.get<SessionRow>(
    `SELECT s.* FROM sessions s WHERE s.id = @id AND ${SESSION_LIVE}${lock ? ' FOR UPDATE' : ''}`,
    { id, now },
  );
}

/** The session at `seq` (which must exist). */
export async function sessionAt(t: Queryable, seq: number): Promise<StoredSession> {
  return toSession(
    (await t.get<SessionRow>('SELECT * FROM sessions WHERE seq = $1', [seq])) as SessionRow,
  );
}

/** Every live artifact of a session, sorted by name then version. */
export async function sessionArtifactRows(
  t: Queryable,
  id: string,
  now: number,
): Promise<StoredArtifact[]> {
  const rows = await t.all<ArtifactRow>(
    `SELECT ${ARTIFACT_COLUMNS} FROM artifacts a JOIN sessions s ON s.seq = a.session_seq
     WHERE s.id = @id AND ${ARTIFACT_LIVE} ORDER BY a.name, a.version`,
    { id, now },
  );
  return rows.map(toArtifact);
}

/**
 * The expiry a session gets when it is sealed (see sqlite-retention.ts sealedExpiry): its own
 * TTL, else when the longest-lived of its live artifacts would have (never, if one has none).
 */
async function sealedExpiry(t: Queryable, seq: number, now: number): Promise<number | null> {
  const s = await t.get<{ expires_at: number | null }>(
    'SELECT expires_at FROM sessions WHERE seq = $1',
    [seq],
  );
  if (s?.expires_at != null) return s.expires_at;
  const r = await t.get<{ n: number; forever: number; last: number | null }>(
    `SELECT count(*) AS n, count(*) FILTER (WHERE expires_at IS NULL) AS forever, max(expires_at) AS last
     FROM artifacts WHERE session_seq = $1 AND (expires_at IS NULL OR expires_at > $2)`,
    [seq, now],
  );
  if (!r || r.n === 0 || r.forever > 0) return null;
  return r.last;
}

/** Removes the rows of a live session that are no longer live at `now` (see sweepVictims). */
async function dropExpiredRows(t: Queryable, seq: number, now: number): Promise<void> {
  const rows = await t.all<RawRow & { name: string }>(
    `SELECT a.seq, a.session_seq, a.sha256, a.size, a.name
     FROM artifacts a JOIN sessions s ON s.seq = a.session_seq
     WHERE a.session_seq = @seq AND NOT ${ARTIFACT_LIVE}`,
    { seq, now },
  );
  if (rows.length > 0) await dropSomeRows(t, rows);
}

async function replaceMeta(t: Queryable, seq: number, meta: Meta): Promise<void> {
  await t.run('DELETE FROM session_meta WHERE session_seq = $1', [seq]);
  const entries = Object.entries(meta);
  if (entries.length > 0)
    await t.run(
      'INSERT INTO session_meta (key, value, session_seq) SELECT k, v, $3 FROM unnest($1::text[], $2::text[]) AS m(k, v)',
      [entries.map((e) => e[0]), entries.map((e) => pgText(e[1])), seq],
    );
}

/** Session writes inside the caller's transaction (mirrors sqlite/session-writes.ts). */
export const pgSessionWrites = {
  /** Creates a session; throws ConflictError(`session_exists`) if a live one has the id. */
  async create(t: Queryable, s: NewSession): Promise<StoredSession> {
    await purgeIfExpired(t, s.id, s.now);
    if (await t.get('SELECT 1 FROM sessions WHERE id = $1', [s.id]))
      throw new ConflictError('session_exists', `session '${s.id}' already exists`);
    const row = (await t.get<{ seq: number }>(
      `INSERT INTO sessions (id, meta, created_at, updated_at, expires_at, keep_versions)
       VALUES ($1, $2, $3, $3, $4, $5) RETURNING seq`,
      [s.id, JSON.stringify(s.meta), s.now, s.expiresAt, s.keepVersions ?? null],
    )) as { seq: number };
    await replaceMeta(t, row.seq, s.meta);
    return sessionAt(t, row.seq);
  },

  /** Applies `patch` to a live session; throws NotFoundError, SessionSealedError. */
  async update(t: Queryable, id: string, patch: SessionPatch, now: number): Promise<StoredSession> {
    const row = await liveSessionRow(t, id, now, true);
    if (!row) throw new NotFoundError(`session '${id}' not found`);
    if (
      row.sealed_at !== null &&
      (patch.meta !== undefined ||
        patch.expiresAt !== undefined ||
        patch.keepVersions !== undefined)
    )
      throw new SessionSealedError(id);
    // A pin keeps what is live: rows already expired go now, as the sweep would have removed
    // them, so the pin never brings back what reads had stopped showing.
    if (patch.pinned === true && row.pinned === 0) await dropExpiredRows(t, row.seq, now);
    await t.run(
      'UPDATE sessions SET meta = $1, expires_at = $2, pinned = $3, updated_at = $4 WHERE seq = $5',
      [
        patch.meta !== undefined ? JSON.stringify(patch.meta) : row.meta,
        patch.expiresAt !== undefined ? patch.expiresAt : row.expires_at,
        patch.pinned !== undefined ? Number(patch.pinned) : row.pinned,
        now,
        row.seq,
      ],
    );
    if (patch.keepVersions !== undefined)
      await t.run('UPDATE sessions SET keep_versions = $1 WHERE seq = $2', [
        patch.keepVersions,
        row.seq,
      ]);
    if (patch.meta !== undefined) await replaceMeta(t, row.seq, patch.meta);
    return sessionAt(t, row.seq);
  },

  /**
   * Seals a live session with what `computeSeal` returns for its artifacts (called inside the
   * transaction, on the session row locked FOR UPDATE); a sealed one is returned unchanged.
   */
  async seal(
    t: Queryable,
    id: string,
    now: number,
    computeSeal: (artifacts: StoredArtifact[]) => { digest: string; signature: string },
  ): Promise<StoredSession> {
    const row = await liveSessionRow(t, id, now, true);
    if (!row) throw new NotFoundError(`session '${id}' not found`);
    if (row.sealed_at !== null) return toSession(row);
    const seal = computeSeal(await sessionArtifactRows(t, id, now));
    if (row.pinned === 1)
      await t.run(
        'UPDATE artifacts SET expires_at = $1 WHERE session_seq = $2 AND expires_at <= $3',
        [now + 1, row.seq, now],
      );
    await t.run(
      'UPDATE sessions SET sealed_at = $1, digest = $2, signature = $3, updated_at = $1, expires_at = $4 WHERE seq = $5',
      [now, seal.digest, seal.signature, await sealedExpiry(t, row.seq, now), row.seq],
    );
    await t.run(
      `UPDATE sessions AS s SET artifact_count = ${COUNTED_ARTIFACTS}, total_bytes = ${COUNTED_BYTES}
       WHERE s.seq = $1`,
      [row.seq],
    );
    return sessionAt(t, row.seq);
  },
};
