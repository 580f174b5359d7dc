import type Database from 'better-sqlite3';
import type { SessionLife } from '../../core/lifecycle.js';
import type { StoredArtifact, StoredSession } from '../stored-rows.js';

/** Artifact row as selected by {@link ARTIFACT_COLUMNS}. */
export interface ArtifactRow {
  seq: number;
  id: string;
  session: string;
  name: string;
  version: number;
  sha256: string;
  size: number;
  content_type: string;
  meta: string;
  created_at: number;
  expires_at: number | null;
  derived_from: string | null;
}

/**
 * Columns for artifact reads; expects `a` = artifacts and `s` = sessions. `expires_at` is
 * artifactExpiry (core/lifecycle.ts) in SQL.
 */
export const ARTIFACT_COLUMNS = `a.seq, a.id, s.id AS session, a.name, a.version, a.sha256, a.size,
  a.content_type, a.meta, a.created_at,
  CASE WHEN s.pinned = 1 THEN NULL
       WHEN s.sealed_at IS NOT NULL THEN s.expires_at
       WHEN a.expires_at IS NULL THEN s.expires_at
       WHEN s.expires_at IS NULL THEN a.expires_at
       ELSE min(a.expires_at, s.expires_at) END AS expires_at,
  (SELECT json_group_array(parent_id) FROM lineage l WHERE l.child_seq = a.seq) AS derived_from`;

/** A session row as the lifecycle rules (core/lifecycle.ts) read it. */
export function sessionLife(s: {
  pinned: number;
  expires_at: number | null;
  sealed_at: number | null;
}): SessionLife {
  return { pinned: s.pinned === 1, expiresAt: s.expires_at, sealedAt: s.sealed_at };
}

/** SQL condition: artifact `a` (in session `s`) is live at `@now` (isArtifactLive). */
export const ARTIFACT_LIVE = `(s.pinned = 1 OR (${ownLife('a')}
  AND (s.expires_at IS NULL OR s.expires_at > @now)))`;

/**
 * SQL condition: artifact `a` is newestLiveVersion of its name at `@now` (read with
 * ARTIFACT_LIVE, which checks `a` itself and its session). `is_latest` marks the newest row,
 * which may have expired before the sweep removes it; then an older live version is the one
 * a read by name gets.
 */
export const NEWEST_LIVE = `(a.is_latest = 1 OR NOT EXISTS (SELECT 1 FROM artifacts b
  WHERE b.session_seq = a.session_seq AND b.name = a.name AND b.version > a.version
    AND (s.pinned = 1 OR ${ownLife('b')})))`;

/**
 * SQL: takes the next version number of `@name` in session `@seq` from its counter row (see
 * migration 9) and returns it. One upsert, so two writers can never both get the same number,
 * and a number once given (even to a row deleted or expired since) is never given again.
 */
export const NEXT_VERSION = `INSERT INTO version_counters (session_seq, name, version)
  VALUES (@seq, @name, 1)
  ON CONFLICT (session_seq, name) DO UPDATE SET version = version + 1
  RETURNING version`;

/**
 * SQL condition: artifact `a` counts in session `s`'s `artifact_count` and `total_bytes`
 * (countsInSession); the others await the sweep, which leaves a sealed session's counters alone.
 */
export const COUNTED = `(s.sealed_at IS NULL OR a.expires_at IS NULL OR a.expires_at > s.sealed_at)`;

/** SQL: how many artifacts session `s` counts (see COUNTED). */
export const COUNTED_ARTIFACTS = `(SELECT count(*) FROM artifacts a WHERE a.session_seq = s.seq AND ${COUNTED})`;
/** SQL: the bytes of the artifacts session `s` counts (see COUNTED). */
export const COUNTED_BYTES = `(SELECT coalesce(sum(a.size), 0) FROM artifacts a WHERE a.session_seq = s.seq AND ${COUNTED})`;

/** SQL condition: artifact `x` of session `s` has not expired on its own at `@now`, or is in its manifest. */
function ownLife(x: string): string {
  return `(${x}.expires_at IS NULL OR ${x}.expires_at > @now
    OR (s.sealed_at IS NOT NULL AND ${x}.expires_at > s.sealed_at))`;
}

/**
 * An artifact's media type: its Content-Type lowercased, without parameters
 * (`Application/JSON; charset=utf-8` → `application/json`). Written exactly as the index
 * artifacts_media_type (migration 6) is, so type= reads that index (an exact type in row
 * order); `type` in where= expressions reads the same value.
 */
export const MEDIA_TYPE = `lower(trim(substr(a.content_type, 1, instr(a.content_type || ';', ';') - 1)))`;

/** SQL condition: session `s` is live at parameter `@now` (isSessionLive). */
export const SESSION_LIVE = `(s.pinned = 1 OR s.expires_at IS NULL OR s.expires_at > @now)`;

/** Session row (all columns of `sessions`). */
export interface SessionRow {
  seq: number;
  id: string;
  meta: string;
  created_at: number;
  updated_at: number;
  expires_at: number | null;
  pinned: number;
  sealed_at: number | null;
  digest: string | null;
  signature: string | null;
  artifact_count: number;
  total_bytes: number;
  /** Keep only the newest N versions of each name (null: the server's setting). */
  keep_versions?: number | null;
}

/** The stored artifact a row holds (see ARTIFACT_COLUMNS). */
export function toArtifact(r: ArtifactRow): StoredArtifact {
  return {
    id: r.id,
    session: r.session,
    name: r.name,
    version: r.version,
    sha256: r.sha256,
    size: r.size,
    contentType: r.content_type,
    meta: JSON.parse(r.meta) as Record<string, string>,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    derivedFrom: r.derived_from ? (JSON.parse(r.derived_from) as string[]).sort() : [],
  };
}

/** The stored session a row of `sessions` holds. */
export function toSession(r: SessionRow): StoredSession {
  return {
    id: r.id,
    meta: JSON.parse(r.meta) as Record<string, string>,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    expiresAt: r.expires_at,
    pinned: r.pinned === 1,
    sealedAt: r.sealed_at,
    digest: r.digest,
    signature: r.signature,
    artifactCount: r.artifact_count,
    totalBytes: r.total_bytes,
    keepVersions: r.keep_versions ?? null,
  };
}

/** The session row with this id if it exists and has not expired at `now`. */
export function liveSessionRow(
  db: Database.Database,
  id: string,
  now: number,
): SessionRow | undefined {
  return db
    .prepare<{ id: string; now: number }, SessionRow>(
      `SELECT s.* FROM sessions s WHERE s.id = @id AND ${SESSION_LIVE}`,
    )
    .get({ id, now });
}

/** The session at `seq` (which must exist). */
export function sessionAt(db: Database.Database, seq: number): StoredSession {
  return toSession(
    db.prepare<[number], SessionRow>('SELECT * FROM sessions WHERE seq = ?').get(seq) as SessionRow,
  );
}
