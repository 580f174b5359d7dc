/**
 * Removing artifact rows inside the caller's transaction: whole sessions (expired, deleted,
 * or purged so their id can be used afresh) and some rows of sessions that stay (expired on
 * their own, pruned), with the blob references, counters and latest flags that go with them.
 */

import type Database from 'better-sqlite3';
import { isSessionLive } from '../../core/lifecycle.js';
import { sessionLife, type SessionRow } from './rows.js';

/** The columns row removal needs. */
export interface RawRow {
  seq: number;
  session_seq: number;
  sha256: string;
  size: number;
}

/**
 * Deletes artifact rows and drops one blob reference for each row the DELETE really removed
 * (another writer may have removed some first: their references are already given back), then
 * runs `after` on it; returns the rows removed and the blobs that lost their last reference
 * (their rows stay, at refs 0, until garbage collection marks and removes them). For whole
 * sessions; see dropSomeRows for rows of one that stays.
 */
export function dropRows<R extends RawRow>(
  db: Database.Database,
  rows: R[],
  after?: (r: R) => void,
): { removed: R[]; unreferenced: string[] } {
  const del = db.prepare<[number], { sha256: string }>(
    'DELETE FROM artifacts WHERE seq = ? RETURNING sha256',
  );
  const unref = db.prepare<[string], { refs: number }>(
    'UPDATE blobs SET refs = refs - 1 WHERE sha256 = ? RETURNING refs',
  );
  const removed: R[] = [];
  const unreferenced: string[] = [];
  for (const r of rows) {
    const gone = del.get(r.seq);
    if (!gone) continue;
    removed.push(r);
    after?.(r);
    if ((unref.get(gone.sha256)?.refs ?? 0) <= 0) unreferenced.push(gone.sha256);
  }
  return { removed, unreferenced };
}

/**
 * {@link dropRows} for some rows of sessions that stay (expired alone, pruned): the counters of
 * an open session drop for each row removed, and the newest remaining version of each name
 * becomes its latest. (Version numbers are never reused: see NEXT_VERSION.)
 */
export function dropSomeRows<R extends RawRow & { name: string }>(
  db: Database.Database,
  rows: R[],
): { removed: R[]; unreferenced: string[] } {
  const counters = db.prepare(
    // A sealed session's counters hold what its manifest holds (see COUNTED): left alone.
    'UPDATE sessions SET artifact_count = artifact_count - 1, total_bytes = total_bytes - ? WHERE seq = ? AND sealed_at IS NULL',
  );
  const names = new Map<number, Set<string>>();
  const dropped = dropRows(db, rows, (r) => {
    counters.run(r.size, r.session_seq);
    names.set(r.session_seq, (names.get(r.session_seq) ?? new Set()).add(r.name));
  });
  const promote = db.prepare(
    `UPDATE artifacts SET is_latest = 1 WHERE is_latest = 0 AND seq = (
       SELECT seq FROM artifacts WHERE session_seq = ? AND name = ? ORDER BY version DESC LIMIT 1)`,
  );
  for (const [seq, set] of names) for (const name of set) promote.run(seq, name);
  return dropped;
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
