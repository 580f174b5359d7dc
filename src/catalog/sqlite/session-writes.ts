import type Database from 'better-sqlite3';
import type { StoredSession } from '../stored-rows.js';
import type { Meta } from '../../core/validate.js';
import { ConflictError, NotFoundError, SessionSealedError } from '../../lib/errors.js';
import {
  ARTIFACT_LIVE,
  COUNTED_ARTIFACTS,
  COUNTED_BYTES,
  liveSessionRow,
  sessionAt,
  toSession,
  type SessionRow,
} from './rows.js';
import { dropSomeRows, purgeIfExpired, type RawRow } from './row-drops.js';
import { sealedExpiry } from './sqlite-retention.js';

/** A session created explicitly (see Catalog.createSession). */
export interface NewSession {
  id: string;
  meta: Meta;
  expiresAt: number | null;
  keepVersions?: number | null;
  now: number;
}

/** What Catalog.updateSession may change. */
export interface SessionPatch {
  meta?: Meta;
  expiresAt?: number | null;
  keepVersions?: number | null;
  pinned?: boolean;
}

/**
 * The write half of the sessions table, as synchronous statements run inside the caller's
 * transaction (the WriteBatcher's savepoint).
 */
export class SessionWrites {
  constructor(private readonly db: Database.Database) {}

  /** Creates a session; throws ConflictError(`session_exists`) if a live one has the id. */
  create(s: NewSession): StoredSession {
    purgeIfExpired(this.db, s.id, s.now);
    const exists = this.db.prepare('SELECT 1 FROM sessions WHERE id = ?').get(s.id);
    if (exists) throw new ConflictError('session_exists', `session '${s.id}' already exists`);
    const seq = Number(
      this.db
        .prepare(
          'INSERT INTO sessions (id, meta, created_at, updated_at, expires_at, keep_versions) VALUES (?, ?, ?, ?, ?, ?)',
        )
        .run(s.id, JSON.stringify(s.meta), s.now, s.now, s.expiresAt, s.keepVersions ?? null)
        .lastInsertRowid,
    );
    this.replaceMeta(seq, s.meta);
    return sessionAt(this.db, seq);
  }

  /**
   * Applies `patch` to a live session; throws NotFoundError, or SessionSealedError for anything
   * but pinning a sealed one.
   */
  update(id: string, patch: SessionPatch, now: number): StoredSession {
    const row = liveSessionRow(this.db, id, now);
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
    if (patch.pinned === true && row.pinned === 0) this.dropExpiredRows(row, now);
    const next = {
      meta: patch.meta !== undefined ? JSON.stringify(patch.meta) : row.meta,
      expires: patch.expiresAt !== undefined ? patch.expiresAt : row.expires_at,
      pinned: patch.pinned !== undefined ? Number(patch.pinned) : row.pinned,
    };
    this.db
      .prepare(
        'UPDATE sessions SET meta = ?, expires_at = ?, pinned = ?, updated_at = ? WHERE seq = ?',
      )
      .run(next.meta, next.expires, next.pinned, now, row.seq);
    if (patch.keepVersions !== undefined)
      this.db
        .prepare('UPDATE sessions SET keep_versions = ? WHERE seq = ?')
        .run(patch.keepVersions, row.seq);
    if (patch.meta !== undefined) this.replaceMeta(row.seq, patch.meta);
    return sessionAt(this.db, row.seq);
  }

  /**
   * Seals a live session with what `computeSeal` returns (called once, inside the transaction);
   * a sealed one is returned unchanged. Throws NotFoundError.
   */
  seal(
    id: string,
    now: number,
    computeSeal: () => { digest: string; signature: string },
  ): StoredSession {
    const row = liveSessionRow(this.db, id, now);
    if (!row) throw new NotFoundError(`session '${id}' not found`);
    if (row.sealed_at !== null) return toSession(row);
    const seal = computeSeal();
    // Kept past their own TTL by the pin, they are in the manifest: they stay with the session
    // (which expires whole) instead of being swept, and the seal broken, once it is unpinned.
    if (row.pinned === 1)
      this.db
        .prepare('UPDATE artifacts SET expires_at = ? WHERE session_seq = ? AND expires_at <= ?')
        .run(now + 1, row.seq, now);
    this.db
      .prepare(
        'UPDATE sessions SET sealed_at = ?, digest = ?, signature = ?, updated_at = ?, expires_at = ? WHERE seq = ?',
      )
      .run(now, seal.digest, seal.signature, now, sealedExpiry(this.db, row.seq, now), row.seq);
    // What the manifest holds: rows that expired before the seal no longer count.
    this.db
      .prepare(
        `UPDATE sessions AS s SET artifact_count = ${COUNTED_ARTIFACTS}, total_bytes = ${COUNTED_BYTES}
         WHERE s.seq = ?`,
      )
      .run(row.seq);
    return sessionAt(this.db, row.seq);
  }

  /** Removes the rows of a live session that are no longer live at `now` (see sweepVictims). */
  private dropExpiredRows(s: SessionRow, now: number): void {
    const rows = this.db
      .prepare<{ seq: number; now: number }, RawRow & { name: string }>(
        `SELECT a.seq, a.session_seq, a.sha256, a.size, a.name
         FROM artifacts a JOIN sessions s ON s.seq = a.session_seq
         WHERE a.session_seq = @seq AND NOT ${ARTIFACT_LIVE}`,
      )
      .all({ seq: s.seq, now });
    if (rows.length > 0) dropSomeRows(this.db, rows);
  }

  private replaceMeta(seq: number, meta: Meta): void {
    this.db.prepare('DELETE FROM session_meta WHERE session_seq = ?').run(seq);
    const ins = this.db.prepare(
      'INSERT INTO session_meta (key, value, session_seq) VALUES (?, ?, ?)',
    );
    for (const [k, v] of Object.entries(meta)) ins.run(k, v, seq);
  }
}
