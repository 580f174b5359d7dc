/**
 * Removing artifact rows inside the caller's transaction (see sqlite/row-drops.ts, which this
 * mirrors): one blob reference given back per row a DELETE really removed.
 */

import type { Queryable } from './pg-db.js';
import { isSessionLive } from '../../core/lifecycle.js';
import { sessionLife, type SessionRow } from '../sqlite/rows.js';

/** The columns row removal needs. */
export interface RawRow {
  seq: number;
  session_seq: number;
  sha256: string;
  size: number;
}

/**
 * Deletes artifact rows and drops one blob reference for each row the DELETE removed, then runs
 * `after` on it; returns the rows removed and the blobs that lost their last reference.
 */
export async function dropRows<R extends RawRow>(
  t: Queryable,
  rows: R[],
  after?: (r: R) => Promise<void>,
): Promise<{ removed: R[]; unreferenced: string[] }> {
  const removed: R[] = [];
  const unreferenced: string[] = [];
  for (const r of rows) {
    const gone = await t.get<{ sha256: string }>(
      'DELETE FROM artifacts WHERE seq = $1 RETURNING sha256',
      [r.seq],
    );
    if (!gone) continue;
    removed.push(r);
    await after?.(r);
    const left = await t.get<{ refs: number }>(
      'UPDATE blobs SET refs = refs - 1 WHERE sha256 = $1 RETURNING refs',
      [gone.sha256],
    );
    if ((left?.refs ?? 0) <= 0) unreferenced.push(gone.sha256);
  }
  return { removed, unreferenced };
}

/**
 * {@link dropRows} for some rows of sessions that stay: an open session's counters drop per row
 * removed, and the newest remaining version of each name becomes its latest.
 */
export async function dropSomeRows<R extends RawRow & { name: string }>(
  t: Queryable,
  rows: R[],
): Promise<{ removed: R[]; unreferenced: string[] }> {
  const names = new Map<number, Set<string>>();
  const dropped = await dropRows(t, rows, async (r) => {
    await t.run(
      `UPDATE sessions SET artifact_count = artifact_count - 1, total_bytes = total_bytes - $1
       WHERE seq = $2 AND sealed_at IS NULL`,
      [r.size, r.session_seq],
    );
    names.set(r.session_seq, (names.get(r.session_seq) ?? new Set()).add(r.name));
  });
  for (const [seq, set] of names) for (const name of set) await promoteLatest(t, seq, name);
  return dropped;
}

/** Puts the latest flag on the highest remaining version of a name. */
export async function promoteLatest(t: Queryable, seq: number, name: string): Promise<void> {
  await t.run(
    `UPDATE artifacts SET is_latest = 1 WHERE is_latest = 0 AND seq = (
       SELECT seq FROM artifacts WHERE session_seq = $1 AND name = $2 ORDER BY version DESC LIMIT 1)`,
    [seq, name],
  );
}

/** True if the session row is no longer live at `now` (see isSessionLive). */
export function isSessionExpired(
  s: { pinned: number; expires_at: number | null; sealed_at: number | null },
  now: number,
): boolean {
  return !isSessionLive(sessionLife(s), now);
}

/**
 * If session `id` exists but expired at `now` (and is not pinned), removes it with all its
 * artifacts inside the caller's transaction and returns true, so the id can be used afresh.
 */
export async function purgeIfExpired(t: Queryable, id: string, now: number): Promise<boolean> {
  const s = await t.get<SessionRow>('SELECT * FROM sessions WHERE id = $1', [id]);
  if (!s || !isSessionExpired(s, now)) return false;
  const rows = await t.all<RawRow>(
    'SELECT seq, session_seq, sha256, size FROM artifacts WHERE session_seq = $1',
    [s.seq],
  );
  await dropRows(t, rows);
  await t.run('DELETE FROM sessions WHERE seq = $1', [s.seq]);
  return true;
}
