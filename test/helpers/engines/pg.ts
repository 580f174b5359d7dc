import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { onTestFinished } from 'vitest';

/** The run's PostgreSQL admin URL (see pg-global.ts); throws if the global setup did not run. */
export function pgAdminUrl(): string {
  const url = process.env.CAIRN_TEST_PG_URL;
  if (!url)
    throw new Error(
      'CAIRN_TEST_PG_URL is not set: run through vitest (test/helpers/engines/pg-global.ts starts PostgreSQL)',
    );
  return url;
}

/**
 * A fresh, empty database on the run's PostgreSQL: returns its URL. Asked for inside a test
 * (and unless `keep`), it is dropped when the test finishes (WITH FORCE: connections left open
 * are closed); otherwise it lives until {@link dropPgDatabase} or the end of the run, when the
 * whole cluster goes.
 */
export async function freshPgDatabase(opts: { keep?: boolean } = {}): Promise<string> {
  const name = `t_${randomBytes(8).toString('hex')}`;
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(pgAdminUrl());
  url.pathname = `/${name}`;
  if (!opts.keep) {
    try {
      onTestFinished(() => dropPgDatabase(url.toString()));
    } catch {
      // Not inside a test (a beforeAll): kept until the run ends.
    }
  }
  return url.toString();
}

/** Drops a database {@link freshPgDatabase} made (closing its connections); idempotent. */
export async function dropPgDatabase(url: string): Promise<void> {
  const name = new URL(url).pathname.slice(1);
  if (!/^t_[0-9a-f]{16}$/.test(name)) throw new Error(`not a test database: ${name}`);
  await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
}

/** The database of each data dir, while the servers over it run on PostgreSQL. */
const byDataDir = new Map<string, string>();

/**
 * With CAIRN_TEST_CATALOG=postgres, the catalog URL a test server over `dataDir` uses: a fresh
 * database the first time, the same one when a server is started again over that data dir (a
 * restart keeps its data). Undefined otherwise (the default SQLite catalog in the data dir).
 */
export async function testCatalogUrl(dataDir: string): Promise<string | undefined> {
  const want = process.env.CAIRN_TEST_CATALOG;
  if (!want || want === 'sqlite') return undefined;
  if (want !== 'postgres')
    throw new Error(`CAIRN_TEST_CATALOG=${want}: expected postgres or sqlite`);
  let url = byDataDir.get(dataDir);
  if (!url) byDataDir.set(dataDir, (url = await freshPgDatabase({ keep: true })));
  return url;
}

/** Drops the database {@link testCatalogUrl} gave `dataDir`, if any (the data dir is gone). */
export async function releaseTestCatalog(dataDir: string): Promise<void> {
  const url = byDataDir.get(dataDir);
  if (!url) return;
  byDataDir.delete(dataDir);
  await dropPgDatabase(url);
}

/** Runs one statement as the admin on the `postgres` database. */
export async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: pgAdminUrl() });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
