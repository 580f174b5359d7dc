import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { PgCatalog } from '../../src/catalog/postgres/pg-catalog.js';
import { freshPgDatabase } from '../helpers/engines/pg.js';

/** The backend pid holding the leader's advisory lock in database `db`, if any. */
async function leaderPid(admin: pg.Client, db: string): Promise<number | null> {
  const r = await admin.query<{ pid: number }>(
    `SELECT l.pid FROM pg_locks l JOIN pg_database d ON d.oid = l.database
     WHERE l.locktype = 'advisory' AND l.granted AND d.datname = $1`,
    [db],
  );
  return r.rows[0]?.pid ?? null;
}

describe('PgCoordinator: one leader among nodes sharing a PostgreSQL catalog', () => {
  it('one node leads; when its connection dies, or it closes, another takes over', async () => {
    const url = await freshPgDatabase();
    const db = new URL(url).pathname.slice(1);
    const [a, b] = [await PgCatalog.open({ url }), await PgCatalog.open({ url })];
    const lead = (c: PgCatalog) => c.capabilities.coordinator!.isLeader();
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      // Asked at once, exactly one wins.
      expect((await Promise.all([lead(a), lead(b)])).sort()).toEqual([false, true]);
      const [leader, standby] = (await lead(a)) ? [a, b] : [b, a];
      expect(await lead(leader)).toBe(true);
      expect(await lead(standby)).toBe(false);

      // The leader's connection dies (as with kill -9 of its node): the lock goes with it.
      const pid = await leaderPid(admin, db);
      expect(pid).not.toBeNull();
      await admin.query('SELECT pg_terminate_backend($1)', [pid]);
      while ((await leaderPid(admin, db)) === pid) await new Promise((r) => setImmediate(r));
      expect(await lead(standby)).toBe(true);
      // The old leader finds its connection gone and does not claim leadership.
      expect(await lead(leader)).toBe(false);

      // close() gives leadership up at once.
      await standby.close();
      expect(await lead(leader)).toBe(true);
      await leader.close();
      expect(await lead(leader)).toBe(false);
    } finally {
      await admin.end();
      await a.close();
      await b.close();
    }
  });
});
