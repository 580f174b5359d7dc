import type { ShareRow } from './catalog.js';

/** A stored share link: {@link ShareRow} plus what identifies a shared session's incarnation. */
export interface StoredShare extends ShareRow {
  /** created_at of the shared session, so a later session reusing the id is not served. */
  sessionCreatedAt: number | null;
  /** Token id of whoever created the link (null if unknown). */
  createdBy: string | null;
}

/**
 * Share links in the catalog. Only the sha256 of a link's secret is stored. Every method is
 * atomic; lookups of a missing link return null.
 */
export interface ShareCatalog {
  /** Stores a new link. */
  add(share: StoredShare): Promise<void>;
  /** The link whose secret hashes to `tokenHash`, or null. */
  byHash(tokenHash: string): Promise<StoredShare | null>;
  /** One link by id, or null. */
  get(id: string): Promise<StoredShare | null>;
  /**
   * Every link, newest first (at most `limit`); with `sessions`, only links into sessions whose
   * id matches that glob (SQLite GLOB semantics, see lib/glob.ts).
   */
  list(limit: number, sessions?: string): Promise<StoredShare[]>;
  /** Marks a link revoked (idempotent: keeps the first revocation time); false if unknown. */
  revoke(id: string, now: number): Promise<boolean>;
  /**
   * Counts one download if the link is still usable at `now` (not revoked, not expired, under
   * its cap) and records the access; false if it was not. Atomic, so a cap of N lets exactly
   * N concurrent downloads through.
   */
  claimDownload(id: string, now: number): Promise<boolean>;
  /** Records an access that is not a download (HEAD, 304). Best effort. */
  touch(id: string, now: number): Promise<void>;
}
