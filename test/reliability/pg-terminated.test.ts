import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { PgCatalog } from '../../src/catalog/postgres/pg-catalog.js';
import { CatalogUnavailableError } from '../../src/lib/errors.js';
import { freshPgDatabase } from '../helpers/engines/pg.js';

// PostgreSQL ends a backend (pg_terminate_backend here; a fast or immediate shutdown does the
// same to every backend) while the catalog holds its connection between two statements of a
// transaction. It used to reach the pooled client as an unhandled 'error' event, which ends
// the process (`cairn serve`; here vitest reports it as an unhandled error and the run fails);
// the transaction must fail as CatalogUnavailableError instead, and the pool go on with a
// fresh connection.

describe('a PostgreSQL backend terminated mid-transaction', () => {
  it('fails that transaction with catalog_unavailable; the next one runs on a new connection', async () => {
    const url = await freshPgDatabase();
    const catalog = await PgCatalog.open({ url });
    const killer = new pg.Client({ connectionString: url });
    await killer.connect();
    try {
      const err = await catalog.db
        .tx(async (t) => {
          const me = await t.get<{ pid: number }>('SELECT pg_backend_pid() AS pid');
          await killer.query('SELECT pg_terminate_backend($1)', [me?.pid]);
          // The FATAL message arrives while no statement runs on this connection.
          await sleep(200);
          return t.get('SELECT 1');
        })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CatalogUnavailableError);
      expect(await catalog.db.get('SELECT 1 AS one')).toEqual({ one: 1 });
    } finally {
      await killer.end();
      await catalog.close();
    }
  });
});
