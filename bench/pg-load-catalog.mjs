/* global performance */
// Copies a generated SQLite catalog (bench/generate-catalog.mjs) into PostgreSQL: the schema and
// indexes are made by PgCatalog's own migrations, then the rows go in with COPY (psql), the
// sequences are moved past them, and VACUUM ANALYZE runs (as autovacuum would after a load).
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { ROOT } from './lib.mjs';

/** Tables the generator fills, in foreign-key order. */
const TABLES = ['sessions', 'session_meta', 'blobs', 'artifacts', 'artifact_meta'];

/**
 * Loads the catalog of data dir `dir` into the empty database of `pg` (pg-lib.mjs
 * startPostgres); returns the seconds it took.
 */
export async function loadIntoPostgres(dir, pg) {
  const t0 = performance.now();
  const { PgCatalog } = await import(
    pathToFileURL(join(ROOT, 'build/catalog/postgres/pg-catalog.js')).href
  );
  await (await PgCatalog.open({ url: pg.url })).close();
  const db = new Database(join(dir, 'catalog.db'), { readonly: true });
  // The artifact_pairs trigger (migration 4) indexes each COPYed row's pairs: into the GIN
  // index's pending list for the load (merged in bulk), not entry by entry (minutes at 1M).
  await pg.sql('ALTER INDEX artifact_pairs_gin SET (fastupdate = on)');
  try {
    for (const table of TABLES) {
      const pgCols = (
        await pg.sql('SELECT column_name FROM information_schema.columns WHERE table_name = $1', [
          table,
        ])
      ).map((r) => r.column_name);
      const cols = db
        .pragma(`table_info(${table})`)
        .map((c) => c.name)
        .filter((c) => pgCols.includes(c));
      const rows = db
        .prepare(`SELECT ${cols.join(', ')} FROM ${table}`)
        .raw()
        .iterate();
      const n = await pg.copy(table, cols, rows);
      process.stderr.write(`copied ${n} rows into ${table}\n`);
    }
  } finally {
    db.close();
  }
  for (const table of ['sessions', 'artifacts'])
    await pg.sql(
      `SELECT setval(pg_get_serial_sequence('${table}', 'seq'), (SELECT max(seq) FROM ${table}))`,
    );
  await pg.sql("SELECT gin_clean_pending_list('artifact_pairs_gin')");
  await pg.sql('ALTER INDEX artifact_pairs_gin SET (fastupdate = off)');
  await pg.sql('VACUUM ANALYZE');
  return (performance.now() - t0) / 1000;
}
