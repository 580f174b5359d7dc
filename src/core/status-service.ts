import type { BlobStore } from '../blobs/blob-store.js';
import type { Catalog } from '../catalog/catalog.js';
import type { CatalogCounts } from '../catalog/stats-catalog.js';

/** How long the health check waits for each store before calling it down. */
export const HEALTH_TIMEOUT_MS = 1000;

/** One store's state as the health check saw it. */
export type StoreHealth = 'ok' | 'down' | 'timeout';

/** What `/healthz` reports: each store's state, and `ok` when both answered. */
export interface Health {
  ok: boolean;
  catalog: StoreHealth;
  blobs: StoreHealth;
  /** Why a store is not ok (for operators; no path or secret in it), else absent. */
  detail?: string;
}

/** What the health check and the metrics scrape read of the stores. */
export class StatusService {
  constructor(private readonly o: { catalog: Catalog; blobs: BlobStore; timeoutMs?: number }) {}

  /**
   * Pings the catalog and the blob store at once, each bounded by {@link HEALTH_TIMEOUT_MS}:
   * a store that fails is `down`, one that does not answer in time is `timeout`. Never throws.
   */
  async health(): Promise<Health> {
    const ms = this.o.timeoutMs ?? HEALTH_TIMEOUT_MS;
    const [catalog, blobs] = await Promise.all([
      probe(() => this.o.catalog.ping(), ms),
      probe(() => this.o.blobs.ping(), ms),
    ]);
    const ok = catalog === 'ok' && blobs === 'ok';
    if (ok) return { ok, catalog, blobs };
    const why = (name: string, s: StoreHealth) =>
      s === 'timeout' ? `the ${name} did not answer within ${ms} ms` : `the ${name} is unreachable`;
    const detail = [
      catalog !== 'ok' ? why('catalog', catalog) : null,
      blobs !== 'ok' ? why('blob store', blobs) : null,
    ]
      .filter(Boolean)
      .join('; ');
    return { ok, catalog, blobs, detail };
  }

  /** Sizes of the catalog (see StatsCatalog.counts). */
  async counts(): Promise<CatalogCounts> {
    return this.o.catalog.stats.counts();
  }
}

/** `ok` if `fn` resolves within `ms`, `down` if it rejects, `timeout` if it is still running. */
async function probe(fn: () => Promise<void>, ms: number): Promise<StoreHealth> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<StoreHealth>((r) => {
    timer = setTimeout(() => r('timeout'), ms);
    timer.unref();
  });
  try {
    const answer = Promise.resolve()
      .then(fn)
      .then(
        (): StoreHealth => 'ok',
        (): StoreHealth => 'down',
      );
    return await Promise.race([answer, late]);
  } finally {
    clearTimeout(timer);
  }
}
