import type { PublicKeyInfo } from '../core/signer.js';
import type { StoredSession } from './stored-rows.js';
import type { Meta } from '../core/validate.js';

/** One artifact of an imported session, with the id, version and times it had at the source. */
export interface ImportedArtifact {
  id: string;
  name: string;
  version: number;
  sha256: string;
  size: number;
  contentType: string;
  meta: Meta;
  createdAt: number;
  /** Lineage as recorded at the source (parents may live on another server). */
  derivedFrom: string[];
}

/** A whole session as an import recreates it. Times are epoch milliseconds. */
export interface ImportedSession {
  id: string;
  meta: Meta;
  createdAt: number;
  /** Seal as recorded at the source (null fields for an open session). */
  sealedAt: number | null;
  digest: string | null;
  signature: string | null;
  /** The key that signed the seal, when it is not this server's own. */
  sealKey: PublicKeyInfo | null;
  /** When the session expires here (null: never). */
  expiresAt: number | null;
  artifacts: ImportedArtifact[];
  now: number;
}

/**
 * Recreating exported sessions. Every method is atomic.
 */
export interface ImportCatalog {
  /**
   * Inserts a session with all its artifacts, metadata, lineage and blob references in one
   * transaction: afterwards either all of it is visible or none of it. Throws
   * ConflictError(`session_exists`) if a live session has the id, ConflictError
   * (`artifact_exists`) if any artifact id is taken. The blobs must already be in the store.
   * Appends, in the same transaction, `artifact.created` per artifact (sorted by name then
   * version) and, for a sealed session, `session.sealed` (see EventCatalog).
   */
  importSession(s: ImportedSession): Promise<StoredSession>;
  /** The foreign key that signed an imported session's seal, or null (this server's own). */
  sealKey(sessionId: string): Promise<PublicKeyInfo | null>;
}
