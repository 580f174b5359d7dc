import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FsBlobStore } from '../../src/blobs/fs/fs-blob-store.js';
import type { FsckReport } from '../../src/core/fsck-service.js';
import { startTestServer, tempDir, type TestServer } from '../helpers/server.js';

// Runs as root (CI does): the data dir is a 20 MiB tmpfs mounted by the test, so "full" is real
// ENOSPC from the kernel and SQLITE_FULL from SQLite, not a simulation.
const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
let mnt: string;
let s: TestServer;
const seeded: { id: string; sha256: string }[] = [];
/** Pushes answered 201 while the disk filled up: each must read back exactly as sent. */
const accepted: { id: string; sha256: string }[] = [];

beforeAll(async () => {
  mnt = tempDir('cairn-full-');
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=20m', 'tmpfs', mnt]);
  // Ballast outside the data dir: removing it later is "the operator freed space".
  writeFileSync(join(mnt, 'ballast'), Buffer.alloc(3 * 1024 * 1024, 1));
  mkdirSync(join(mnt, 'data'));
  s = await startTestServer({ dataDir: join(mnt, 'data') });
  for (let i = 0; i < 6; i++) {
    const body = randomBytes(1000 * (i + 1));
    const res = await s.fetch(`/v1/sessions/keep${i % 2}/artifacts/seed${i}.bin`, {
      method: 'PUT',
      body,
    });
    seeded.push({ id: ((await res.json()) as { id: string }).id, sha256: sha(body) });
  }
  await s.fetch('/v1/sessions/keep0/seal', { method: 'POST' });
});

afterAll(async () => {
  await s?.close();
  try {
    execFileSync('umount', [mnt]);
  } catch {
    execFileSync('umount', ['-l', mnt]); // a descriptor still open: detach it anyway
  }
  rmSync(mnt, { recursive: true, force: true });
});

async function pushUntilFull(size: number, max: number): Promise<number[]> {
  const statuses: number[] = [];
  let full = 0;
  for (let i = 0; i < max && full < 5; i++) {
    const sent = randomBytes(size);
    const res = await s.fetch(`/v1/sessions/fill/artifacts/${size}-${i}.bin`, {
      method: 'PUT',
      body: sent,
    });
    const body = (await res.json()) as { id: string; error?: { code: string } };
    statuses.push(res.status);
    if (res.status === 201) accepted.push({ id: body.id, sha256: sha(sent) });
    if (res.status === 507) {
      expect(body.error?.code).toBe('insufficient_storage');
      full++;
    }
  }
  return statuses;
}

describe('disk full (a 20 MiB tmpfs as the data dir)', () => {
  it('answers pushes with 507 insufficient_storage once full, never 5xx otherwise', async () => {
    const big = await pushUntilFull(512 * 1024, 100);
    expect(big).toContain(507);
    // Then small pushes, to fill what is left down to the catalog's pages (SQLITE_FULL).
    const small = await pushUntilFull(2048, 2000);
    expect(small).toContain(507);
    for (const st of [...big, ...small]) expect([201, 507]).toContain(st);
  });

  it('answers 507 when only the catalog grows (push by reference: SQLITE_FULL, not ENOSPC)', async () => {
    // 12 KiB of metadata per row: within the 16 KiB header limit, so only SQLite's pages grow.
    const meta = Array.from({ length: 12 }, (_, k) => `meta.k${k}=${'v'.repeat(1000)}`).join('&');
    const statuses: number[] = [];
    for (let i = 0; i < 3000 && !statuses.some((st) => st !== 201); i++) {
      const res = await s.fetch(
        `/v1/sessions/refs/artifacts/r${i}.bin?sha256=${seeded[1].sha256}&${meta}`,
        { method: 'PUT' },
      );
      const body = (await res.json()) as { error?: { code: string } };
      if (res.status === 507) expect(body.error?.code).toBe('insufficient_storage');
      statuses.push(res.status);
    }
    expect(statuses).toContain(507);
    for (const st of statuses) expect([201, 507]).toContain(st);
  });

  it('keeps serving reads, damages nothing and leaves no temp file', async () => {
    // A write cut short by the full disk must fail its push, never store a file with a hole.
    expect(accepted.length).toBeGreaterThan(0);
    for (const a of [...seeded, ...accepted]) {
      const res = await s.fetch(`/v1/artifacts/${a.id}/content`);
      expect(res.status).toBe(200);
      expect(sha(Buffer.from(await res.arrayBuffer()))).toBe(a.sha256);
    }
    expect((await s.fetch('/v1/artifacts?session=keep1')).status).toBe(200);
    const sealed = (await (await s.fetch('/v1/sessions/keep0')).json()) as { sealed: boolean };
    expect(sealed.sealed).toBe(true);
    expect(readdirSync(join(s.dataDir, 'tmp'))).toEqual([]);
    // Nothing missing, corrupt or miscounted. A push refused by the full disk may leave its
    // bytes unreferenced while the disk stays full (undoing it is a write too): only such
    // orphans, which the next successful push collects (the test below).
    const fsck = (await (await s.fetch('/v1/fsck', { method: 'POST' })).json()) as FsckReport;
    expect(fsck.problems.filter((p) => p.kind !== 'orphan')).toEqual([]);
  });

  it('accepts pushes again once space is freed', async () => {
    rmSync(join(mnt, 'ballast'));
    const res = await s.fetch('/v1/sessions/after/artifacts/ok.txt', {
      method: 'PUT',
      body: 'space again',
    });
    expect(res.status).toBe(201);
    // Deleting through the API frees space too, and the store stays consistent.
    const fill = (await (await s.fetch('/v1/artifacts?session=fill&limit=5')).json()) as {
      items: { id: string }[];
    };
    for (const a of fill.items)
      expect((await s.fetch(`/v1/artifacts/${a.id}`, { method: 'DELETE' })).status).toBe(200);
    const again = await s.fetch('/v1/sessions/after/artifacts/big.bin', {
      method: 'PUT',
      body: randomBytes(1024 * 1024),
    });
    expect(again.status).toBe(201);
    const fsck = (await (await s.fetch('/v1/fsck', { method: 'POST' })).json()) as FsckReport;
    expect(fsck.problems).toEqual([]);
  });
});

describe('a large upload that outgrows the disk (a 2600 KiB tmpfs)', () => {
  it('fails with insufficient_storage and leaves nothing, even when a write is cut short', async () => {
    const small = tempDir('cairn-short-');
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2600k', 'tmpfs', small]);
    try {
      const store = new FsBlobStore({ root: join(small, 'store'), durable: true });
      await store.recover();
      // 2.8 MiB into ~2.5 MiB free: the kernel takes part of the third 1 MiB write and
      // answers success with fewer bytes written (O_DIRECT), which must not pass for a blob.
      const bytes = randomBytes(Math.floor(2.8 * 1024 * 1024));
      await expect(store.stage(Readable.from([bytes]))).rejects.toMatchObject({
        code: 'insufficient_storage',
      });
      expect(readdirSync(join(small, 'store', 'tmp'))).toEqual([]);
      await store.close();
    } finally {
      execFileSync('umount', [small]);
      rmSync(small, { recursive: true, force: true });
    }
  });
});
