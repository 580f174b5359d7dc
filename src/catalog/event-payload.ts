import type { StoredArtifact, StoredSession } from './stored-rows.js';

/**
 * The `data` of the events the catalog writes (see EventCatalog), as stored in the stream:
 * an artifact's or a session's API record. Stored, not formatted on read, because nodes one
 * release apart share one stream during a rolling upgrade and each sends what it reads as is;
 * so this shape is frozen with the stream. It is the same as core/records.ts gives (a
 * conformance case compares the two: test/conformance/catalog-events-suite.ts), kept here
 * because a catalog may not call core.
 */

/** The stored `data` of an artifact event: the artifact's API record. */
export function artifactEventData(a: StoredArtifact): Record<string, unknown> {
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

/** The stored `data` of a session event: the session's API record. */
export function sessionEventData(s: StoredSession): Record<string, unknown> {
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

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
