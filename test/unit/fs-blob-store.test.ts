import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import {
  closeSync,
  createWriteStream,
  existsSync,
  readdirSync,
  truncateSync,
  writeFileSync,
  mkdirSync,
} from 'node:fs';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { FlushBehind } from '../../src/blobs/fs/flush-behind.js';
import { FsBlobStore } from '../../src/blobs/fs/fs-blob-store.js';
import { tempDir } from '../helpers/server.js';
import { runBlobStoreSuite } from '../conformance/blob-store-suite.js';

async function make(durable: boolean, more: { flushEvery?: number; directIo?: boolean } = {}) {
  const root = tempDir();
  const store = new FsBlobStore({ root, durable, ...more });
  await store.recover();
  return { store, root, stagingFiles: async () => readdirSync(join(root, 'tmp')).length };
}

// Durable uploads are written with O_DIRECT where the filesystem takes it (DirectFileWriter).
describe('FsBlobStore (durable)', () => runBlobStoreSuite(() => make(true)));
describe('FsBlobStore (process durability)', () => runBlobStoreSuite(() => make(false)));
// Without O_DIRECT, durable uploads are written buffered and fsynced.
describe('FsBlobStore (durable, buffered)', () =>
  runBlobStoreSuite(() => make(true, { directIo: false })));
// ... and written back while they arrive (FlushBehind), many times per multi-MiB upload.
describe('FsBlobStore (durable, buffered, flushing behind every 64 KiB)', () =>
  runBlobStoreSuite(() => make(true, { directIo: false, flushEvery: 64 * 1024 })));

describe('FsBlobStore layout and recovery', () => {
  it('stores blobs under blobs/ab/cd/<sha256>', async () => {
    const { store, root } = await make(true);
    const s = await store.stage(Readable.from([Buffer.from('layout')]));
    await s.commit();
    expect(
      existsSync(join(root, 'blobs', s.sha256.slice(0, 2), s.sha256.slice(2, 4), s.sha256)),
    ).toBe(true);
  });

  it('recover() removes uploads left in tmp/ by a crash between temp file and rename', async () => {
    const root = tempDir();
    mkdirSync(join(root, 'tmp'), { recursive: true });
    writeFileSync(join(root, 'tmp', 'leftover-upload'), 'half written');
    const store = new FsBlobStore({ root, durable: true });
    await store.recover();
    expect(readdirSync(join(root, 'tmp'))).toEqual([]);
  });
});

describe('FsBlobStore downloads', () => {
  it('fails a read past the end of a damaged blob file without an unhandled rejection', async () => {
    const { store } = await make(true);
    const bytes = Buffer.alloc(6 * 1024 * 1024, 3);
    const s = await store.stage(Readable.from([bytes]));
    await s.commit();
    // Damage: the file loses its tail, so reads queued past the new end fail while the first
    // chunks are still being sent (several reads are kept in flight).
    truncateSync(store.pathOf(s.sha256), 2.5 * 1024 * 1024);
    const body = await store.getBody(s.sha256, { start: 0, end: bytes.length - 1 });
    const out = new PassThrough();
    out.resume();
    await expect(body.writeTo(out)).rejects.toThrow('shorter than its recorded size');
  });

  it('sends every lane of a multi-MiB range in order', async () => {
    const { store } = await make(true);
    const bytes = randomBytes(9 * 1024 * 1024 + 17);
    const s = await store.stage(Readable.from([bytes]));
    await s.commit();
    const range = { start: 1024 * 1024 - 5, end: bytes.length - 2 };
    const body = await store.getBody(s.sha256, range);
    const out = new PassThrough();
    const got: Buffer[] = [];
    out.on('data', (c: Buffer) => got.push(Buffer.from(c))); // a copy: the body reuses its buffers
    await body.writeTo(out);
    expect(Buffer.concat(got).equals(bytes.subarray(range.start, range.end + 1))).toBe(true);
  });
});

describe('FlushBehind', () => {
  it('issues a flush once `every` bytes were written, and reports its failure', async () => {
    const root = tempDir();
    const out = createWriteStream(join(root, 'upload'));
    await once(out, 'open');
    const behind = new FlushBehind(out, 1024);
    expect(behind.wrote(1000)).toBeNull();
    await behind.settle(); // below the interval: nothing issued, nothing to wait for
    // A real failing fdatasync: the descriptor closed under the stream (EBADF).
    closeSync((out as unknown as { fd: number }).fd);
    expect(behind.wrote(100)).toBeNull();
    await expect(behind.settle()).rejects.toMatchObject({ code: 'EBADF' });
    expect(behind.wrote(1)).toMatchObject({ code: 'EBADF' });
    // Its own close then fails the same way; that error is expected here.
    out.on('error', () => undefined);
    const closed = new Promise<void>((resolve) => out.once('close', () => resolve()));
    out.destroy();
    await closed;
  });
});
