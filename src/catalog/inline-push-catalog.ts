import type { NewArtifact } from './catalog.js';
import type { StoredArtifact } from './stored-rows.js';

/** What {@link InlinePushCatalog.addInline} answers when it added the row. */
export interface InlinePushed {
  artifact: StoredArtifact;
  /** True if the bytes were new to the inline tier (the push did not deduplicate). */
  created: boolean;
}

/**
 * A push of small bytes as ONE catalog transaction: the bytes go into the catalog's inline
 * tier (CatalogCapabilities.inlineBlobs) together with the artifact row, its blob reference
 * and its event, so they commit, or roll back, together, and no blob lease is needed (there
 * is no moment when the bytes are stored but not referenced).
 *
 * Garbage collection of the same bytes: the transaction takes the blob's collection key (the
 * one LeaseCatalog.markBlob takes) before it reads the blob's mark, so a mark and this push run
 * one after the other: a mark committed first (by a collector deleting these bytes right now)
 * makes `addInline` answer null; a push committed first leaves the blob referenced, so the mark
 * is refused. A stale mark (a dead collector's) is taken over, as a lease would.
 */
export interface InlinePushCatalog {
  /**
   * Adds `a` (as Catalog.addArtifact would; `a.leaseId` must be absent) with `bytes` (whose
   * sha256 is `a.sha256`) in one transaction. Resolves null when it cannot take this path (a
   * fresh collection mark on the bytes, a sealed or expired session, an unknown parent, text
   * the database cannot carry): nothing was written, and the caller takes the ordinary path
   * (lease, commit the bytes, addArtifact), which waits out the mark or tells the precise
   * error. Any other failure rejects, with nothing written. Safe concurrently, across nodes.
   */
  addInline(a: NewArtifact, bytes: Buffer, o: { staleMs: number }): Promise<InlinePushed | null>;
}
