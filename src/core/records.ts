import type { StoredArtifact, StoredSession, StoredToken } from '../catalog/stored-rows.js';
import type { ArtifactRecord, SessionRecord, TokenRecord } from './types.js';

/**
 * The one formatter from the catalog's rows (catalog/stored-rows.ts) to the records every API
 * returns (HTTP, MCP, CLI, exports, the seal manifest): snake_case keys in a fixed order,
 * times as ISO-8601 strings. Every backend's rows go through here, so no two can disagree.
 */

/** Epoch milliseconds as ISO-8601 (`2026-01-02T03:04:05.678Z`). */
export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** The API record of an artifact. */
export function artifactRecord(a: StoredArtifact): ArtifactRecord {
  return {
    id: a.id,
    session: a.session,
    name: a.name,
    version: a.version,
    sha256: a.sha256,
    size: a.size,
    content_type: a.contentType,
    meta: a.meta,
    created_at: iso(a.createdAt),
    expires_at: a.expiresAt === null ? null : iso(a.expiresAt),
    derived_from: a.derivedFrom,
  };
}

/** The API record of a session; a pinned session shows no expiry. */
export function sessionRecord(s: StoredSession): SessionRecord {
  return {
    id: s.id,
    meta: s.meta,
    created_at: iso(s.createdAt),
    updated_at: iso(s.updatedAt),
    expires_at: s.pinned || s.expiresAt === null ? null : iso(s.expiresAt),
    sealed: s.sealedAt !== null,
    sealed_at: s.sealedAt === null ? null : iso(s.sealedAt),
    digest: s.digest,
    signature: s.signature,
    pinned: s.pinned,
    artifact_count: s.artifactCount,
    total_bytes: s.totalBytes,
    keep_versions: s.keepVersions,
  };
}

/** The API record of a token (never its secret). */
export function tokenRecord(t: StoredToken): TokenRecord {
  return {
    id: t.id,
    name: t.name,
    scope: t.scope,
    sessions: t.sessions,
    created_at: iso(t.createdAt),
    last_used_at: t.lastUsedAt === null ? null : iso(t.lastUsedAt),
  };
}
