import type { Meta, Scope } from '../core/types.js';

/**
 * The rows every catalog backend returns: the domain's values, not the API's format (that is
 * core/records.ts, once for all backends). Times are epoch milliseconds, `meta` is parsed,
 * flags are booleans, lists are arrays. Plain objects, so they cross worker threads as they
 * are (the SQLite read pool).
 */

/** One artifact as a catalog returns it. */
export interface StoredArtifact {
  id: string;
  session: string;
  name: string;
  version: number;
  sha256: string;
  size: number;
  contentType: string;
  meta: Meta;
  createdAt: number;
  /**
   * When it expires, all rules applied (artifactExpiry in core/lifecycle.ts: its own TTL,
   * its session's, a seal, a pin); null: never.
   */
  expiresAt: number | null;
  /** Ids of the artifacts it was derived from (lineage), sorted. */
  derivedFrom: string[];
}

/** One session as a catalog returns it. */
export interface StoredSession {
  id: string;
  meta: Meta;
  createdAt: number;
  updatedAt: number;
  /** Its own expiry as stored; a pinned session keeps it but never expires (see `pinned`). */
  expiresAt: number | null;
  pinned: boolean;
  /** When it was sealed; null while open. */
  sealedAt: number | null;
  digest: string | null;
  signature: string | null;
  artifactCount: number;
  totalBytes: number;
  /** Only the newest N versions of each name are kept (null: the server's setting, if any). */
  keepVersions: number | null;
}

/** An API token as a catalog lists it (never its secret, nor its hash). */
export interface StoredToken {
  id: string;
  name: string;
  scope: Scope;
  /** Glob over session ids the token is limited to, or null. */
  sessions: string | null;
  createdAt: number;
  lastUsedAt: number | null;
}
