import pg from 'pg';
import { expect, it } from 'vitest';
import { PgCatalog } from '../../src/catalog/postgres/pg-catalog.js';
import type { CairnEvent } from '../../src/core/events.js';
import { freshPgDatabase } from '../helpers/engines/pg.js';
import { art } from './fixtures.js';

/** Every event after `cursor` (one page is enough here). */
async function after(c: PgCatalog, cursor: number): Promise<CairnEvent[]> {
  const p = await c.events.readAfter(cursor, 100);
  expect(p.gap).toBe(false);
  return p.events;
}

it('a reader never skips an event whose transaction began first and committed last', async () => {
  const url = await freshPgDatabase();
  const c = await PgCatalog.open({ url });
  const slow = new pg.Client({ connectionString: url });
  await slow.connect();
  try {
    const t0 = await c.events.tail();
    for (let round = 0; round < 3; round++) {
      // A writer's transaction takes its event row first and is still open...
      await slow.query('BEGIN');
      await slow.query(
        `INSERT INTO events (type, session, data, at) VALUES ('session.deleted', $1, '{}', 0)`,
        [`late${round}`],
      );
      // ...while a later one commits, and a reader reads up to what it can see.
      await c.addArtifact(art({ session: `early${round}` }));
      const seen = await after(c, await c.events.oldest());
      const cursor = seen.at(-1)?.id ?? t0;
      await slow.query('COMMIT');
      // One promotion numbers the late commit: nothing waits for a horizon.
      await c.events.tail();
      const pending = await slow.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM events WHERE pos IS NULL',
      );
      expect(pending.rows[0].n).toBe(0);
      // The late commit is readable after that cursor: nothing was skipped.
      const all = [...seen, ...(await after(c, cursor))];
      const sessions = all.map((e) => e.session);
      for (let r = 0; r <= round; r++) {
        expect(sessions.filter((s) => s === `late${r}`)).toHaveLength(1);
        expect(sessions.filter((s) => s === `early${r}`)).toHaveLength(1);
      }
      expect(all.every((e, k) => k === 0 || e.id > all[k - 1].id)).toBe(true);
    }
  } finally {
    await slow.end();
    await c.close();
  }
});

it('a transaction left open elsewhere on the cluster delays no event', async () => {
  const url = await freshPgDatabase();
  const other = await freshPgDatabase();
  const c = await PgCatalog.open({ url });
  const idle = new pg.Client({ connectionString: other });
  const here = new pg.Client({ connectionString: url });
  await Promise.all([idle.connect(), here.connect()]);
  try {
    // Transactions holding an xid, open in another database and in this one.
    await idle.query('BEGIN');
    await idle.query('SELECT pg_current_xact_id()');
    await here.query('BEGIN');
    await here.query('SELECT pg_current_xact_id()');
    const t0 = await c.events.tail();
    await c.addArtifact(art({ session: 'while-open' }));
    // The very next tail includes it.
    expect(await c.events.tail()).toBe(t0 + 1);
    expect((await after(c, t0)).map((e) => e.session)).toEqual(['while-open']);
  } finally {
    await idle.query('ROLLBACK');
    await here.query('ROLLBACK');
    await Promise.all([idle.end(), here.end()]);
    await c.close();
  }
});

it('the doorbell reconnects a LISTEN connection the server dropped, and rings for what it missed', async () => {
  const url = await freshPgDatabase();
  const c = await PgCatalog.open({ url });
  const writer = await PgCatalog.open({ url });
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    let rings = 0;
    const stop = c.events.watch(() => rings++);
    const t0 = await c.events.tail();
    // Wait until the LISTEN connection is up, then kill it.
    const listener = async () =>
      (
        await admin.query<{ pid: number }>(
          "SELECT pid FROM pg_stat_activity WHERE application_name = 'cairn-events' AND datname = current_database()",
        )
      ).rows;
    while ((await listener()).length === 0) await new Promise((r) => setTimeout(r, 10));
    const [{ pid }] = await listener();
    await admin.query('SELECT pg_terminate_backend($1)', [pid]);
    // Written while (maybe) nobody listens: the reconnect or the poll must ring for it.
    await writer.addArtifact(art({ session: 'while-deaf' }));
    const before = rings;
    while (rings === before) await new Promise((r) => setTimeout(r, 10));
    const evs = await after(c, t0);
    expect(evs.map((e) => e.session)).toEqual(['while-deaf']);
    // A fresh LISTEN connection is in place again.
    while ((await listener()).length === 0) await new Promise((r) => setTimeout(r, 10));
    expect((await listener())[0].pid).not.toBe(pid);
    stop();
  } finally {
    await admin.end();
    await writer.close();
    await c.close();
  }
});
