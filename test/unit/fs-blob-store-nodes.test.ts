import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { setImmediate as tick } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { FsBlobStore } from '../../src/blobs/fs/fs-blob-store.js';
import { SqliteCatalog } from '../../src/catalog/sqlite/sqlite-catalog.js';
import { collectBytes, leaseBlobs, MARK_STALE_MS } from '../../src/core/blob-leases.js';
import { tempDir } from '../helpers/server.js';

// Several processes (nodes) on one blob directory: one's start-up recovery must never delete
// another live one's uploads in flight, nor the blobs it committed whose catalog row is not
// written yet; and it must still clean what a dead one left.

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const tmpFiles = (root: string) => readdirSync(join(root, 'tmp'));

/** Waits until `ok()` holds (the upload worker creates its file off this thread). */
async function until(ok: () => boolean): Promise<void> {
  while (!ok()) await new Promise((r) => setTimeout(r, 5));
}

/** An upload whose bytes arrive in pieces, fed by the test. */
function slowUpload(store: FsBlobStore, bytes: Buffer) {
  const src = new PassThrough();
  const staged = store.stage(src);
  const half = bytes.length >> 1;
  return {
    staged,
    first: () => src.write(bytes.subarray(0, half)),
    rest: () => src.end(bytes.subarray(half)),
  };
}

describe('FsBlobStore shared by two live processes', () => {
  it("B's recovery while A has uploads in flight leaves them intact, and they commit", async () => {
    const root = tempDir();
    const a = new FsBlobStore({ root, durable: true });
    await a.recover();
    for (let round = 0; round < 8; round++) {
      const bodies = Array.from({ length: 4 }, () => randomBytes(256 * 1024 + round));
      const ups = bodies.map((b) => slowUpload(a, b));
      for (const u of ups) u.first();
      // A's uploads are half written in tmp/; two of A's blobs are committed without their
      // catalog row yet (the journal holds them open).
      await until(() => tmpFiles(root).length === ups.length);
      const pending = await Promise.all(
        [randomBytes(100_000), randomBytes(100_001)].map(async (b) => {
          const s = await a.stage(Readable.from([b]));
          await s.commit();
          return s;
        }),
      );
      // B starts over the same root and recovers, racing A's writes; "nothing is referenced".
      const b = new FsBlobStore({ root, durable: true });
      const [report] = await Promise.all([
        b.recover({ isReferenced: async () => false }),
        (async () => {
          for (let i = 0; i < round; i++) await tick();
          for (const u of ups) u.rest();
        })(),
      ]);
      expect(report.orphansRemoved).toEqual([]);
      for (const [i, u] of ups.entries()) {
        const staged = await u.staged;
        expect(staged.sha256).toBe(sha(bodies[i]));
        expect(await staged.commit()).toBe(true);
        await staged.discard();
        expect(await b.has(staged.sha256)).toBe(true);
      }
      for (const s of pending) {
        expect(await b.has(s.sha256)).toBe(true);
        await s.discard();
      }
      await b.close();
    }
    expect(tmpFiles(root)).toEqual([]);
    await a.close();
  });

  it("cleans what a dead process left: its uploads, and its journal's orphans", async () => {
    const root = tempDir();
    const dead = new FsBlobStore({ root, durable: false });
    await dead.recover();
    const orphan = await dead.stage(Readable.from([randomBytes(70_000)]));
    await orphan.commit();
    const live = new FsBlobStore({ root, durable: false });
    await live.recover();
    const inFlight = slowUpload(live, randomBytes(300_000));
    inFlight.first();
    await until(() => tmpFiles(root).length === 1);
    // An upload the dead process left half written, named as its uploads are.
    const [liveTmp] = tmpFiles(root);
    const deadTmp = liveTmp.replace(/^[^~]+/, (id) => `${id}x`);
    writeFileSync(join(root, 'tmp', deadTmp), 'half');
    // Legacy leftovers of a Cairn from before nodes: a loose upload.
    writeFileSync(join(root, 'tmp', '1700000000000-abcdef'), 'old');
    // It dies: its lock goes with it; its journal (the orphan still open) stays.
    await dead.close();

    const next = new FsBlobStore({ root, durable: false });
    const report = await next.recover({ isReferenced: async () => false });
    expect(report.orphansRemoved).toEqual([orphan.sha256]);
    expect(await next.has(orphan.sha256)).toBe(false);
    // The live process's upload is still there and commits; the dead ones are gone.
    expect(tmpFiles(root)).toEqual([liveTmp]);
    inFlight.rest();
    const done = await inFlight.staged;
    expect(await done.commit()).toBe(true);
    await done.discard();
    // The two live nodes' locks remain; nothing of the dead one.
    const nodes = readdirSync(join(root, 'nodes'));
    expect(nodes.filter((n) => n.endsWith('.lock'))).toHaveLength(2);
    await live.close();
    await next.close();
    // Closed with nothing open, a node leaves nothing behind.
    expect(readdirSync(join(root, 'nodes'))).toEqual([]);
    expect(existsSync(join(root, 'blobs.journal'))).toBe(false);
  });

  it("a dead process's orphan that a live node is pushing again (leased) survives recovery", async () => {
    const root = tempDir();
    const [a, b] = [0, 1].map(() => SqliteCatalog.open({ dir: root, durability: 'process' }));
    const dead = new FsBlobStore({ root, durable: false });
    await dead.recover();
    const bytes = [randomBytes(90_000), randomBytes(90_001)];
    const staged = await Promise.all(bytes.map((x) => dead.stage(Readable.from([x]))));
    for (const s of staged) await s.commit();
    await dead.close();
    const [leased, orphan] = staged.map((s) => s.sha256);
    // Node A is pushing the first blob's bytes again: it holds a lease, its row is to come.
    await leaseBlobs(a, [leased], { clock: Date.now, staleMs: MARK_STALE_MS });
    // Node B starts over the same store and recovers through the catalog's marks.
    const store = new FsBlobStore({ root, durable: false });
    const report = await store.recover({
      isReferenced: async (sha) => (await b.blobRefs(sha)) > 0,
      collect: (sha) => collectBytes(b, store, sha, { now: Date.now(), staleMs: MARK_STALE_MS }),
    });
    expect(report.orphansRemoved).toEqual([orphan]);
    expect(await store.has(leased)).toBe(true);
    expect(await store.has(orphan)).toBe(false);
    await store.close();
    await a.close();
    await b.close();
  });
});
