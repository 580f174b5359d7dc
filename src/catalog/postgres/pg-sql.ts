/**
 * The SQL fragments every PostgreSQL catalog file shares, written to give exactly what their
 * SQLite twins in sqlite/rows.ts give (change the two together). Rows map to stored rows with the
 * same functions (toArtifact, toSession in sqlite/rows.ts: they only read plain columns).
 */

/** Columns for artifact reads; expects `a` = artifacts and `s` = sessions. */
export const ARTIFACT_COLUMNS = `a.seq, a.id, s.id AS session, a.name, a.version, a.sha256, a.size,
  a.content_type, a.meta, a.created_at,
  CASE WHEN s.pinned = 1 THEN NULL
       WHEN s.sealed_at IS NOT NULL THEN s.expires_at
       WHEN a.expires_at IS NULL THEN s.expires_at
       WHEN s.expires_at IS NULL THEN a.expires_at
       ELSE LEAST(a.expires_at, s.expires_at) END AS expires_at,
  (SELECT json_agg(l.parent_id)::text FROM lineage l WHERE l.child_seq = a.seq) AS derived_from`;

/** SQL condition: artifact `x` of session `s` has not expired on its own at `@now`. */
function ownLife(x: string): string {
  return `(${x}.expires_at IS NULL OR ${x}.expires_at > @now
    OR (s.sealed_at IS NOT NULL AND ${x}.expires_at > s.sealed_at))`;
}

/** SQL condition: artifact `a` (in session `s`) has not expired at `@now` (see rows.ts). */
export const ARTIFACT_LIVE = `(s.pinned = 1 OR (${ownLife('a')}
  AND (s.expires_at IS NULL OR s.expires_at > @now)))`;

/** SQL condition: artifact `a` is the newest version of its name still live at `@now`. */
export const NEWEST_LIVE = `(a.is_latest = 1 OR NOT EXISTS (SELECT 1 FROM artifacts b
  WHERE b.session_seq = a.session_seq AND b.name = a.name AND b.version > a.version
    AND (s.pinned = 1 OR ${ownLife('b')})))`;

/** SQL: takes the next version of `@name` in session `@seq` from its counter row. */
export const NEXT_VERSION = `INSERT INTO version_counters AS c (session_seq, name, version)
  VALUES (@seq, @name, 1)
  ON CONFLICT (session_seq, name) DO UPDATE SET version = c.version + 1
  RETURNING version`;

/** SQL condition: artifact `a` counts in session `s`'s counters (see rows.ts COUNTED). */
export const COUNTED = `(s.sealed_at IS NULL OR a.expires_at IS NULL OR a.expires_at > s.sealed_at)`;
/** SQL: how many artifacts session `s` counts. */
export const COUNTED_ARTIFACTS = `(SELECT count(*) FROM artifacts a WHERE a.session_seq = s.seq AND ${COUNTED})`;
/** SQL: the bytes of the artifacts session `s` counts. */
export const COUNTED_BYTES = `(SELECT coalesce(sum(a.size), 0) FROM artifacts a WHERE a.session_seq = s.seq AND ${COUNTED})`;

/** An artifact's media type, written exactly as the index artifacts_media_type is. */
export const MEDIA_TYPE = `lower(trim(substr(a.content_type, 1, strpos(a.content_type || ';', ';') - 1)))`;

/** SQL condition: session `s` has not expired at `@now`. */
export const SESSION_LIVE = `(s.pinned = 1 OR s.expires_at IS NULL OR s.expires_at > @now)`;

/** SQL: a blob reference taken by a push or import (none while the row is marked for GC). */
export const BLOB_REF = `INSERT INTO blobs AS b (sha256, size, refs) VALUES ($1, $2, 1)
  ON CONFLICT (sha256) DO UPDATE SET refs = b.refs + 1 WHERE b.gc_mark IS NULL`;
