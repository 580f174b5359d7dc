import type { CatalogCounts, StatsCatalog } from '../stats-catalog.js';
import type { PgDb } from './pg-db.js';

/** {@link StatsCatalog} on PostgreSQL: session counters and blob table sums. */
export class PgStats implements StatsCatalog {
  constructor(private readonly db: PgDb) {}

  async counts(): Promise<CatalogCounts> {
    const s = await this.db.get<{ n: number; a: number | null; b: number | null }>(
      'SELECT count(*) AS n, sum(artifact_count) AS a, sum(total_bytes) AS b FROM sessions',
    );
    const b = await this.db.get<{ n: number; bytes: number | null }>(
      'SELECT count(*) AS n, sum(size) AS bytes FROM blobs WHERE refs > 0',
    );
    return {
      sessions: s?.n ?? 0,
      artifacts: s?.a ?? 0,
      artifactBytes: s?.b ?? 0,
      blobs: b?.n ?? 0,
      blobBytes: b?.bytes ?? 0,
    };
  }
}
