import { closeSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { Checkpointer } from '../../src/catalog/sqlite/checkpointer.js';
import { WalSync } from '../../src/catalog/sqlite/wal-sync.js';
import { WriteBatcher } from '../../src/catalog/sqlite/write-batcher.js';
import { walDatabase } from '../helpers/wal-db.js';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

/**
 * A real WAL database wired as the catalog wires it: a batcher whose sync is a real WAL fsync,
 * and a checkpointer with its own pin connection. `extra` runs inside the sync point.
 */
function setup(
  opts: {
    commitsPerRound?: number;
    duringSync?: () => void;
    onError?: (err: unknown) => void;
    onFatal?: (err: unknown) => void;
  } = {},
) {
  const { db, file, remove } = walDatabase(
    'CREATE TABLE t (v INTEGER NOT NULL, pad TEXT NOT NULL)',
  );
  const wal = new WalSync(`${file}-wal`);
  const pin = new Database(file);
  // Each refers to the other only inside callbacks, which run after both exist.
  const cp: Checkpointer = new Checkpointer(db, pin, file, {
    commitsPerRound: opts.commitsPerRound ?? 1_000_000,
    idleMs: 60_000,
    onError: opts.onError,
    onFatal: opts.onFatal,
    syncPoint: async () => {
      await batch.run(() => undefined);
      opts.duringSync?.();
    },
  });
  const batch = new WriteBatcher(db, {
    sync: () => wal.sync(),
    afterCommit: () => cp.noteCommit(),
  });
  cleanups.push(() => {
    void cp.close();
    if (pin.open) pin.close();
    wal.close();
    remove();
  });
  const insert = db.prepare('INSERT INTO t VALUES (?, ?)');
  const write = (n: number, from = 0) =>
    Promise.all(
      Array.from({ length: n }, (_, i) => batch.run(() => insert.run(from + i, 'x'.repeat(500)))),
    );
  return { db, pin, file, cp, batch, write, insert };
}

const count = (db: Database.Database) =>
  (db.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n;

describe('Checkpointer', () => {
  it('turns off SQLite’s automatic checkpoint on the writing connection', () => {
    const { db } = setup();
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
  });

  it('copies every frame when nothing commits during the round, and the WAL then restarts', async () => {
    const { db, cp, write } = setup();
    await write(2000);
    const round = await cp.run();
    expect(round).not.toBeNull();
    expect(round!.log).toBeGreaterThan(100);
    expect(round!.copied).toBe(round!.log);
    expect(round!.remaining).toBe(0);
    // The next commit starts the WAL again from its first frame instead of appending.
    await write(1, 5000);
    const next = await cp.run();
    expect(next!.log).toBeLessThan(20);
    expect(db.pragma('synchronous', { simple: true })).toBe(1);
    expect(count(db)).toBe(2001);
  });

  it('copies only the frames pinned before its WAL sync; a closing pass copies the rest', async () => {
    let late: () => void = () => undefined;
    const { db, cp, write, insert } = setup({ duringSync: () => late() });
    await write(500);
    // Commits made after the pin (here while the round waits for its sync point) are not yet
    // known to be durable: the unsynced pass must leave them in the WAL.
    late = () => {
      late = () => undefined;
      db.transaction(() => {
        for (let i = 0; i < 300; i++) insert.run(10_000 + i, 'y'.repeat(500));
      })();
    };
    const round = await cp.run();
    expect(round!.copied).toBeGreaterThan(0);
    expect(round!.copied).toBeLessThan(round!.log);
    expect(round!.remaining).toBe(0);
    expect(count(db)).toBe(800);
  });

  it('starts a round by itself after the configured number of commits', async () => {
    const { cp, write } = setup({ commitsPerRound: 3 });
    for (let i = 0; i < 2; i++) await write(50, i * 100);
    expect(cp.rounds).toBe(0);
    await write(50, 200);
    // No run() here: the third commit alone must start a round, which then completes.
    await expect.poll(() => cp.rounds).toBe(1);
  });

  it('keeps every committed row across rounds, reopen included', async () => {
    const { db, pin, file, cp, write } = setup({ commitsPerRound: 2 });
    for (let i = 0; i < 20; i++) {
      await write(100, i * 1000);
      if (i % 3 === 0) await cp.run();
    }
    await cp.close();
    expect(pin.open).toBe(false);
    db.close();
    const again = new Database(file, { readonly: true });
    cleanups.push(() => again.close());
    expect(count(again)).toBe(2000);
    expect(again.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(statSync(file).size).toBeGreaterThan(2000 * 500);
  });

  it('reports a round that failed before copying and releases its pin for the next', async () => {
    const errors: unknown[] = [];
    let failNext = true;
    const { cp, write, pin } = setup({
      commitsPerRound: 1,
      onError: (e) => errors.push(e),
      duringSync: () => {
        if (failNext) {
          failNext = false;
          throw new Error('EIO: simulated WAL sync failure');
        }
      },
    });
    await write(20);
    // The round the commits started runs on its own: wait for it to report, however slow.
    await expect.poll(() => errors.length, { timeout: 30_000 }).toBe(1);
    expect(errors.map((e) => (e as Error).message)).toEqual(['EIO: simulated WAL sync failure']);
    await expect.poll(() => pin.inTransaction, { timeout: 30_000 }).toBe(false);
    const round = await cp.run();
    expect(round!.copied).toBeGreaterThan(0);
  });

  it('keeps the pin for good when catalog.db cannot be fsynced after a copy', async () => {
    const fatal: unknown[] = [];
    const { cp, write, pin } = setup({ onFatal: (e) => fatal.push(e) });
    await write(200);
    // A real failing fsync: the checkpointer's descriptor closed under it (EBADF).
    closeSync((cp as unknown as { dbFd: number }).dbFd);
    await expect(cp.run()).rejects.toThrow(/EBADF/);
    expect(fatal).toHaveLength(1);
    // The copied frames stay pinned: the WAL is never restarted over them by this process.
    expect(pin.inTransaction).toBe(true);
    expect(await cp.run()).toBeNull();
    await write(10, 9000);
    expect(pin.inTransaction).toBe(true);
  });
});
