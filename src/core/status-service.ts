import type { Catalog } from '../catalog/catalog.js';
import type { CatalogCounts } from '../catalog/stats-catalog.js';

/** What the health check and the metrics scrape read of the stores. */
export class StatusService {
  constructor(private readonly o: { catalog: Catalog }) {}

  /** Resolves if the catalog answers a query; rejects with its error otherwise. */
  async ready(): Promise<void> {
    await this.o.catalog.countTokens();
  }

  /** Sizes of the catalog (see StatsCatalog.counts). */
  async counts(): Promise<CatalogCounts> {
    return this.o.catalog.stats.counts();
  }
}
