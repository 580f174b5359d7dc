import type Database from 'better-sqlite3';
import type { CatalogCounts, StatsCatalog } from '../stats-catalog.js';

/** {@link StatsCatalog} over the SQLite connection: session counters and blob table sums. */
export class SqliteStats implements StatsCatalog {
  constructor(private readonly db: Database.Database) {}

  async counts(): Promise<CatalogCounts> {
    // Session rows carry artifact counts and bytes, so this never scans the artifact table.
    const s = this.db
      .prepare<[], { n: number; a: number | null; b: number | null }>(
        'SELECT count(*) AS n, sum(artifact_count) AS a, sum(total_bytes) AS b FROM sessions',
      )
      .get();
    const b = this.db
      .prepare<[], { n: number; bytes: number | null }>(
        'SELECT count(*) AS n, sum(size) AS bytes FROM blobs WHERE refs > 0',
      )
      .get();
    return {
      sessions: s?.n ?? 0,
      artifacts: s?.a ?? 0,
      artifactBytes: s?.b ?? 0,
      blobs: b?.n ?? 0,
      blobBytes: b?.bytes ?? 0,
    };
  }
}
