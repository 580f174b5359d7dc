import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll } from 'vitest';

/** The run's PostgreSQL admin URL (see pg-global.ts); throws if the global setup did not run. */
export function pgAdminUrl(): string {
  const url = process.env.CAIRN_TEST_PG_URL;
  if (!url)
    throw new Error(
      'CAIRN_TEST_PG_URL is not set: run through vitest (test/helpers/engines/pg-global.ts starts PostgreSQL)',
    );
  return url;
}

/** Databases this test file created, dropped when it ends. */
const created: string[] = [];
let hooked = false;

/**
 * A fresh, empty database on the run's PostgreSQL, for one test (or one suite): returns its
 * URL. Every database a test file creates is dropped (with FORCE, closing what is left
 * connected) after the file's tests.
 */
export async function freshPgDatabase(): Promise<string> {
  const name = `t_${randomBytes(8).toString('hex')}`;
  await admin(`CREATE DATABASE ${name}`);
  if (!hooked) {
    hooked = true;
    afterAll(async () => {
      for (const db of created.splice(0)) await admin(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
    });
  }
  created.push(name);
  const url = new URL(pgAdminUrl());
  url.pathname = `/${name}`;
  return url.toString();
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
