import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.js';
import { FsBlobStore } from '../../src/blobs/fs/fs-blob-store.js';
import { tempDir } from '../helpers/server.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function fresh(): string {
  const d = tempDir('cairn-orphan-');
  dirs.push(d);
  return d;
}

/** The commit journals in `<root>/nodes/` (one per process that left one), as text. */
function journals(root: string): string[] {
  const dir = join(root, 'nodes');
  return readdirSync(dir)
    .filter((n) => n.endsWith('.journal'))
    .map((n) => readFileSync(join(dir, n), 'utf8'));
}

async function commitWithoutRow(store: FsBlobStore, text: string): Promise<string> {
  const staged = await store.stage(Readable.from([Buffer.from(text)]));
  await staged.commit();
  // No discard: the process "crashes" before the catalog row is committed.
  return staged.sha256;
}

describe('start-up recovery of blobs committed without their catalog row', () => {
  it('removes an orphan left by a crash between the blob rename and the catalog commit', async () => {
    const root = fresh();
    const before = new FsBlobStore({ root, durable: true });
    await before.recover();
    const orphan = await commitWithoutRow(before, 'orphan bytes');
    const kept = await commitWithoutRow(before, 'referenced bytes');
    // Its lock goes, its journal stays: as after kill -9.
    await before.close();

    const after = new FsBlobStore({ root, durable: true });
    const report = await after.recover({ isReferenced: async (sha) => sha === kept });
    expect(report.orphansRemoved).toEqual([orphan]);
    expect(await after.has(orphan)).toBe(false);
    expect(await after.has(kept)).toBe(true);
    // The dead node's journal is gone; only the new node's, empty, remains.
    expect(journals(root)).toEqual(['']);
  });

  it('forgets a blob once the push is done (discard after commit): recovery keeps it', async () => {
    const root = fresh();
    const store = new FsBlobStore({ root, durable: false });
    await store.recover();
    const staged = await store.stage(Readable.from([Buffer.from('done')]));
    await staged.commit();
    await staged.discard();
    await store.close();
    // Even a buggy "nothing is referenced" answer cannot touch a blob the journal forgot.
    const report = await new FsBlobStore({ root, durable: false }).recover({
      isReferenced: async () => false,
    });
    expect(report.orphansRemoved).toEqual([]);
    expect(await store.has(staged.sha256)).toBe(true);
  });

  it('keeps the journal bounded: it is rewritten with only the open entries', async () => {
    const root = fresh();
    const store = new FsBlobStore({ root, durable: false });
    await store.recover();
    for (let i = 0; i < 5000; i++) {
      const staged = await store.stage(Readable.from([Buffer.from(`blob ${i}`)]));
      await staged.commit();
      await staged.discard();
    }
    const open = await commitWithoutRow(store, 'still open');
    const lines = journals(root)[0].trim().split('\n');
    expect(lines.length).toBeLessThanOrEqual(4096);
    expect(lines).toContain(open);
  });

  it('createApp runs the recovery against the catalog: a referenced blob stays, an orphan goes', async () => {
    const dataDir = fresh();
    const app = await createApp({ dataDir });
    const rec = await app.artifacts.push(
      { session: 's1', name: 'kept.txt' },
      Readable.from([Buffer.from('kept')]),
    );
    const orphan = await commitWithoutRow(app.blobs as FsBlobStore, 'no row for me');
    await app.close();

    const again = await createApp({ dataDir });
    try {
      expect(await again.blobs.has(orphan)).toBe(false);
      expect(await again.blobs.has(rec.sha256)).toBe(true);
      expect(existsSync(join(dataDir, 'tmp'))).toBe(true);
    } finally {
      await again.close();
    }
  });
});
