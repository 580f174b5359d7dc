import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { WalSync } from '../../src/catalog/sqlite/wal-sync.js';
import { WriteBatcher } from '../../src/catalog/sqlite/write-batcher.js';
import { walDatabase } from '../helpers/wal-db.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

/** A real WAL database in a temp dir with one table. */
function open(): { db: Database.Database; file: string } {
  const { db, file, remove } = walDatabase('CREATE TABLE t (v INTEGER NOT NULL UNIQUE)');
  cleanups.push(remove);
  return { db, file };
}

/** A sync the test finishes by hand, recording what was committed when it started. */
function gatedSync(db: Database.Database) {
  const started: { rowsAtStart: number; finish: () => void }[] = [];
  const sync = () =>
    new Promise<void>((resolve) => {
      const n = (db.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n;
      started.push({ rowsAtStart: n, finish: resolve });
    });
  return { started, sync };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('WriteBatcher with a sync (group commit, fsync off the event loop)', () => {
  it('acknowledges a write only after a sync that started after its commit', async () => {
    const { db } = open();
    const gate = gatedSync(db);
    const batch = new WriteBatcher(db, { sync: gate.sync });
    let settled = false;
    const write = batch.run(() => db.prepare('INSERT INTO t VALUES (1)').run().changes);
    void write.then(() => (settled = true));
    await tick();
    await tick();
    expect(gate.started).toHaveLength(1);
    expect(gate.started[0].rowsAtStart).toBe(1); // committed before the sync began
    expect(settled).toBe(false);
    gate.started[0].finish();
    expect(await write).toBe(1);
  });

  it('keeps committing while a sync runs, and one later sync covers those batches', async () => {
    const { db } = open();
    const gate = gatedSync(db);
    const batch = new WriteBatcher(db, { sync: gate.sync });
    const first = batch.run(() => db.prepare('INSERT INTO t VALUES (1)').run());
    await tick();
    const later = [2, 3, 4].map((v) =>
      batch.run(() => db.prepare('INSERT INTO t VALUES (?)').run(v)),
    );
    await tick();
    await tick();
    // The later writes are committed (visible) but wait: syncs never overlap.
    expect((db.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n).toBe(4);
    expect(gate.started).toHaveLength(1);
    gate.started[0].finish();
    await first;
    await tick();
    expect(gate.started).toHaveLength(2);
    expect(gate.started[1].rowsAtStart).toBe(4);
    gate.started[1].finish();
    await Promise.all(later);
  });

  it('settles an ordered write at its commit; the next durable write’s sync covers it', async () => {
    const { db } = open();
    const gate = gatedSync(db);
    const batch = new WriteBatcher(db, { sync: gate.sync });
    // Ordered alone: committed and settled without any sync at all.
    expect(await batch.runOrdered(() => db.prepare('INSERT INTO t VALUES (1)').run().changes)).toBe(
      1,
    );
    await tick();
    expect(gate.started).toHaveLength(0);
    // Then a durable write: its sync starts after both commits, so it covers the ordered one.
    const durable = batch.run(() => db.prepare('INSERT INTO t VALUES (2)').run());
    await tick();
    await tick();
    expect(gate.started).toHaveLength(1);
    expect(gate.started[0].rowsAtStart).toBe(2);
    gate.started[0].finish();
    await durable;
  });

  it('rejects a failing write at once without undoing the others of its batch', async () => {
    const { db } = open();
    const gate = gatedSync(db);
    const batch = new WriteBatcher(db, { sync: gate.sync });
    const ok = batch.run(() => db.prepare('INSERT INTO t VALUES (1)').run());
    const dup = batch.run(() => db.prepare('INSERT INTO t VALUES (1)').run());
    await expect(dup).rejects.toThrow(/UNIQUE/);
    gate.started[0].finish();
    await ok;
    expect((db.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n).toBe(1);
  });

  it('a single-statement write skips the savepoint yet fails whole and alone', async () => {
    const { db } = open();
    const batch = new WriteBatcher(db);
    const single = { single: true };
    const ok = batch.run(() => db.prepare('INSERT INTO t VALUES (1)').run(), single);
    // Row 2 goes in before row 1 fails: the statement, not a savepoint, takes row 2 back out.
    const bad = batch.run(() => db.prepare('INSERT INTO t VALUES (2), (1)').run(), single);
    const after = batch.runOrdered(() => db.prepare('INSERT INTO t VALUES (3)').run(), single);
    await expect(bad).rejects.toThrow(/UNIQUE/);
    await Promise.all([ok, after]);
    const rows = db.prepare('SELECT v FROM t ORDER BY v').all() as { v: number }[];
    expect(rows.map((r) => r.v)).toEqual([1, 3]);
  });

  it('a failed sync rejects the writes it covered; drain waits for pending syncs', async () => {
    const { db } = open();
    let fail = true;
    const batch = new WriteBatcher(db, {
      sync: async () => {
        if (fail) throw Object.assign(new Error('EIO: i/o error'), { code: 'EIO' });
      },
    });
    await expect(batch.run(() => db.prepare('INSERT INTO t VALUES (1)').run())).rejects.toThrow(
      /EIO/,
    );
    fail = false;
    const pending = batch.run(() => db.prepare('INSERT INTO t VALUES (2)').run());
    await batch.drain();
    await pending;
  });

  it('syncs the real WAL file (WalSync), also after a TRUNCATE checkpoint empties it', async () => {
    const { db, file } = open();
    const wal = new WalSync(`${file}-wal`);
    // No WAL file yet is nothing to sync, not an error.
    await expect(new WalSync(`${file}-none-wal`).sync()).resolves.toBeUndefined();
    cleanups.unshift(() => wal.close());
    const batch = new WriteBatcher(db, { sync: () => wal.sync() });
    await batch.run(() => db.prepare('INSERT INTO t VALUES (1)').run());
    db.pragma('wal_checkpoint(TRUNCATE)');
    await batch.run(() => db.prepare('INSERT INTO t VALUES (2)').run());
    wal.syncNow();
    expect((db.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n).toBe(2);
  });
});
