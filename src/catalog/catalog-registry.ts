import { BackendRegistry, localPathOf } from '../lib/backend-registry.js';
import type { Catalog } from './catalog.js';

/** What every catalog factory is given besides its URL. */
export interface CatalogOpenOptions {
  /** `full`: durable against power loss before a write resolves; `process`: against kill -9. */
  durability: 'full' | 'process';
  /** A loaded better-sqlite3 native binding (the single binary); SQLite only. */
  nativeBinding?: unknown;
  /** Budget of one query in ms, past which it fails with `query_too_expensive`. */
  queryTimeoutMs?: number;
}

/**
 * Catalog backends by URL scheme (`cairn serve --catalog URL`, env `CAIRN_CATALOG`). Built in:
 *
 * - `sqlite:PATH` — one SQLite file (created, with its directory, if missing): `sqlite:/abs/x.db`,
 *   `sqlite:///abs/x.db`, or `sqlite:relative/x.db`. The default is `sqlite:<data>/catalog.db`.
 *
 * A backend added later (`postgres:`) registers here; factories are imported lazily so a backend
 * nobody uses costs nothing at start.
 */
export const catalogRegistry = new BackendRegistry<Catalog, CatalogOpenOptions>(
  'catalog',
  '--catalog',
);

catalogRegistry.register(
  'sqlite:',
  async (url, opts) => {
    const { SqliteCatalog } = await import('./sqlite/sqlite-catalog.js');
    return SqliteCatalog.open({
      file: localPathOf(url, '--catalog'),
      durability: opts.durability,
      nativeBinding: opts.nativeBinding,
      queryTimeoutMs: opts.queryTimeoutMs,
    });
  },
  (url) => void localPathOf(url, '--catalog'),
);
