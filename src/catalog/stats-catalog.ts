/** Sizes of what the catalog holds (for metrics). */
export interface CatalogCounts {
  sessions: number;
  artifacts: number;
  blobs: number;
  /** Bytes of distinct blobs (after dedupe). */
  blobBytes: number;
  /** Bytes of all artifacts (before dedupe). */
  artifactBytes: number;
}

/** Read-only catalog statistics. Cheap enough to call on every metrics scrape. */
export interface StatsCatalog {
  /** Current counts, including rows that expired but were not swept yet. */
  counts(): Promise<CatalogCounts>;
}
