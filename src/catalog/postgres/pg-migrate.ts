import type pg from 'pg';
import { PG_MIGRATIONS } from './pg-migrations.js';

/** Advisory lock key the migrations run under (any constant; "cairn-mg" in ASCII). */
const MIGRATION_LOCK = 0x636169726e2d6d67n;

/**
 * Brings the database up to the latest schema under a session advisory lock, so nodes starting
 * at once migrate once (the others wait, then find it done). Refuses a schema newer than this
 * build knows, naming both versions. Returns the version it started from.
 */
export async function migratePg(pool: pg.Pool): Promise<number> {
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK.toString()]);
    try {
      await client.query(
        'CREATE TABLE IF NOT EXISTS cairn_schema (one INTEGER PRIMARY KEY CHECK (one = 1), version INTEGER NOT NULL)',
      );
      const row = (await client.query<{ version: number }>('SELECT version FROM cairn_schema'))
        .rows[0];
      const from = row?.version ?? 0;
      if (from > PG_MIGRATIONS.length)
        throw new Error(
          `catalog schema version ${from} is newer than this Cairn knows (${PG_MIGRATIONS.length}); upgrade Cairn`,
        );
      for (let v = from; v < PG_MIGRATIONS.length; v++) {
        await client.query('BEGIN');
        try {
          await client.query(PG_MIGRATIONS[v]);
          await client.query(
            `INSERT INTO cairn_schema (one, version) VALUES (1, $1)
             ON CONFLICT (one) DO UPDATE SET version = excluded.version`,
            [v + 1],
          );
          await client.query('COMMIT');
        } catch (err) {
          await client.query('ROLLBACK');
          throw err;
        }
      }
      return from;
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK.toString()]);
    }
  } finally {
    client.release();
  }
}
