import { createHash } from 'node:crypto';
import { PassThrough, Readable, Writable } from 'node:stream';
import { expect, it } from 'vitest';
import type { BlobStore } from '../../src/blobs/blob-store.js';
import { CairnError } from '../../src/lib/errors.js';

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

async function readAll(r: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of r) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Sends a blob body into a collecting Writable (left open, as an HTTP answer would be). */
async function sendAll(store: BlobStore, sha256: string, range?: { start: number; end: number }) {
  const chunks: Buffer[] = [];
  const out = new Writable({
    write(chunk: Buffer, _enc, cb) {
      // Copy: a fast path may reuse its buffer once the write is acknowledged.
      chunks.push(Buffer.from(chunk));
      setImmediate(cb);
    },
  });
  await (await store.getBody(sha256, range)).writeTo(out);
  expect(out.writableEnded).toBe(false);
  return Buffer.concat(chunks);
}

/**
 * The shared conformance suite every BlobStore implementation must pass. `make` returns a
 * fresh, recovered store plus a function that counts leftover staging files.
 */
export function runBlobStoreSuite(
  make: () => Promise<{ store: BlobStore; stagingFiles: () => Promise<number> }>,
): void {
  it('stages, commits and reads back bytes by sha256', async () => {
    const { store } = await make();
    const staged = await store.stage(Readable.from([Buffer.from('hello '), Buffer.from('world')]));
    expect(staged.sha256).toBe(sha('hello world'));
    expect(staged.size).toBe(11);
    expect(await store.has(staged.sha256)).toBe(false);
    expect(await staged.commit()).toBe(true);
    expect(await store.has(staged.sha256)).toBe(true);
    expect((await readAll(await store.get(staged.sha256))).toString()).toBe('hello world');
    expect(await store.stat(staged.sha256)).toEqual({ size: 11 });
  });

  it('reads a byte range (inclusive ends)', async () => {
    const { store } = await make();
    const s = await store.stage(Readable.from([Buffer.from('0123456789')]));
    await s.commit();
    expect((await readAll(await store.get(s.sha256, { start: 2, end: 5 }))).toString()).toBe(
      '2345',
    );
  });

  it('stores identical bytes once: the second commit reports not new', async () => {
    const { store, stagingFiles } = await make();
    const a = await store.stage(Readable.from([Buffer.from('same')]));
    const b = await store.stage(Readable.from([Buffer.from('same')]));
    expect(await a.commit()).toBe(true);
    expect(await b.commit()).toBe(false);
    const all: string[] = [];
    for await (const h of store.list()) all.push(h);
    expect(all).toEqual([sha('same')]);
    expect(await stagingFiles()).toBe(0);
  });

  it('handles concurrent uploads of the same bytes (one blob, both readable)', async () => {
    const { store, stagingFiles } = await make();
    const body = Buffer.alloc(256 * 1024, 7);
    const staged = await Promise.all(
      Array.from({ length: 8 }, () => store.stage(Readable.from([body]))),
    );
    const created = await Promise.all(staged.map((s) => s.commit()));
    expect(created.filter(Boolean).length).toBeGreaterThanOrEqual(1);
    expect((await readAll(await store.get(sha(body)))).equals(body)).toBe(true);
    expect(await stagingFiles()).toBe(0);
  });

  it('rejects a corrupted upload (digest mismatch) and keeps nothing', async () => {
    const { store, stagingFiles } = await make();
    const err = await store
      .stage(Readable.from([Buffer.from('actual')]), { expectedSha256: sha('expected') })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CairnError);
    expect((err as CairnError).code).toBe('digest_mismatch');
    expect(await store.has(sha('actual'))).toBe(false);
    expect(await stagingFiles()).toBe(0);
  });

  it('rejects an upload over maxSize and keeps nothing', async () => {
    const { store, stagingFiles } = await make();
    const err = await store
      .stage(Readable.from([Buffer.alloc(100)]), { maxSize: 10 })
      .catch((e: unknown) => e);
    expect((err as CairnError).code).toBe('payload_too_large');
    expect(await stagingFiles()).toBe(0);
  });

  it('keeps nothing when the source stream fails midway (aborted upload)', async () => {
    const { store, stagingFiles } = await make();
    const source = new Readable({
      read() {
        this.push(Buffer.alloc(64 * 1024, 1));
        this.destroy(new Error('client went away'));
      },
    });
    await expect(store.stage(source)).rejects.toThrow('client went away');
    expect(await stagingFiles()).toBe(0);
    let n = 0;
    for await (const _ of store.list()) n++;
    expect(n).toBe(0);
  });

  it('discard drops staged bytes; delete is idempotent; get of unknown throws not found', async () => {
    const { store, stagingFiles } = await make();
    const s = await store.stage(Readable.from([Buffer.from('temp')]));
    await s.discard();
    await s.discard();
    expect(await stagingFiles()).toBe(0);
    expect(await store.has(s.sha256)).toBe(false);
    await store.delete(s.sha256);
    const err = await store.get(s.sha256).catch((e: unknown) => e);
    expect((err as CairnError).status).toBe(404);
    await expect(store.stat(s.sha256)).rejects.toBeInstanceOf(CairnError);
  });

  it('stages an empty body', async () => {
    const { store } = await make();
    const s = await store.stage(Readable.from([]));
    expect(s.size).toBe(0);
    expect(s.sha256).toBe(sha(''));
    await s.commit();
    expect((await readAll(await store.get(s.sha256))).length).toBe(0);
  });

  it('sends a body (whole, a range, several read chunks) without ending the destination', async () => {
    const { store } = await make();
    const big = Buffer.alloc(2.5 * 1024 * 1024 + 7);
    for (let i = 0; i < big.length; i++) big[i] = (i * 31 + (i >> 12)) & 0xff;
    const s = await store.stage(Readable.from([big]));
    await s.commit();
    expect((await sendAll(store, s.sha256)).equals(big)).toBe(true);
    const range = { start: 1024 * 1024 - 3, end: 2 * 1024 * 1024 + 5 };
    expect(
      (await sendAll(store, s.sha256, range)).equals(big.subarray(range.start, range.end + 1)),
    ).toBe(true);
    const small = await store.stage(Readable.from([Buffer.from('0123456789')]));
    await small.commit();
    expect((await sendAll(store, small.sha256, { start: 3, end: 4 })).toString()).toBe('34');
  });

  it('opening a body of an unknown blob throws not found before anything is sent', async () => {
    const { store } = await make();
    const err = await store.getBody(sha('never stored')).catch((e: unknown) => e);
    expect((err as CairnError).status).toBe(404);
  });

  it('a body rejects when the destination closes midway, and can be closed unsent', async () => {
    const { store } = await make();
    const s = await store.stage(Readable.from([Buffer.alloc(3 * 1024 * 1024, 7)]));
    await s.commit();
    const out = new PassThrough({ highWaterMark: 1024 });
    const sending = (await store.getBody(s.sha256)).writeTo(out);
    out.destroy();
    await expect(sending).rejects.toThrow(/closed/);
    const unsent = await store.getBody(s.sha256);
    await unsent.close();
    await unsent.close();
  });
}
