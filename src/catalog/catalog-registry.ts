import { BackendRegistry, localPathOf } from '../lib/backend-registry.js';
import { InvalidInputError } from '../lib/errors.js';
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
 * - `postgres://user:pass@host:port/db` (or `postgresql://`) — a PostgreSQL database shared by
 *   any number of nodes; libpq URL forms (`?host=/socket/dir`, `sslmode=…`) as pg parses them.
 *
 * Factories are imported lazily so a backend nobody uses costs nothing at start.
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

for (const scheme of ['postgres:', 'postgresql:'])
  catalogRegistry.register(
    scheme,
    async (url, opts) => {
      const { PgCatalog } = await import('./postgres/pg-catalog.js');
      return PgCatalog.open({ url, queryTimeoutMs: opts.queryTimeoutMs });
    },
    (url) => {
      try {
        // The form only; pg reads the URL itself when it connects.
        new URL(url);
      } catch {
        throw new InvalidInputError(
          'invalid_backend_url',
          `--catalog '${url.slice(0, 200)}' is not a PostgreSQL URL; write postgres://USER:PASSWORD@HOST:PORT/DATABASE`,
        );
      }
    },
  );
