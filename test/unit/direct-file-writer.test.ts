import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { DirectFileWriter } from '../../src/blobs/fs/direct-file-writer.js';
import { FsBlobStore } from '../../src/blobs/fs/fs-blob-store.js';
import { hashJob } from '../../src/blobs/fs/hash-worker.js';
import { tempDir } from '../helpers/server.js';

/** The type of the filesystem holding `dir`, from /proc/mounts (longest mount point prefix). */
function fsTypeOf(dir: string): string {
  let best = { point: '', type: 'unknown' };
  for (const line of readFileSync('/proc/mounts', 'utf8').split('\n')) {
    const [, point, type] = line.split(' ');
    if (!point || !type) continue;
    const covers = dir === point || dir.startsWith(point === '/' ? '/' : `${point}/`);
    if (covers && point.length >= best.point.length) best = { point, type };
  }
  return best.type;
}

const root = tempDir('cairn-direct-');
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** What this process's open descriptors point to. */
function openPaths(): string[] {
  return readdirSync('/proc/self/fd').map((fd) => {
    try {
      return readlinkSync(join('/proc/self/fd', fd));
    } catch {
      return '';
    }
  });
}

/** Streams `bytes` (in uneven chunks, as a socket delivers them) into a new direct file. */
async function writeDirect(bytes: Buffer, name: string) {
  const path = join(root, name);
  const writer = await DirectFileWriter.create(path);
  if (!writer) throw new Error(`${root} (${fsTypeOf(root)}) refused O_DIRECT`);
  const chunks: Buffer[] = [];
  for (let at = 0, step = 1; at < bytes.length; at += step, step = (step * 7 + 13) % 70_001)
    chunks.push(bytes.subarray(at, at + step));
  await pipeline(Readable.from(chunks), writer);
  return { path, digest: writer.digest() };
}

const directCapable = ['ext4', 'xfs', 'btrfs'].includes(fsTypeOf(root));

describe.runIf(directCapable)('DirectFileWriter on a filesystem with O_DIRECT', () => {
  // Around the alignment (4096), the buffer size (1 MiB) and several buffers in flight.
  const sizes = [0, 1, 4095, 4096, 4097, 1024 * 1024, 1024 * 1024 + 1, 5 * 1024 * 1024 + 123];
  for (const size of sizes) {
    it(`writes ${size} bytes exactly, with their sha256`, async () => {
      const bytes = randomBytes(size);
      const { path, digest } = await writeDirect(bytes, `f-${size}`);
      expect(readFileSync(path).equals(bytes)).toBe(true);
      expect(digest).toBe(createHash('sha256').update(bytes).digest('hex'));
    });
  }

  it('refuses a path that exists (the file is created new) and leaves it as it was', async () => {
    const { path } = await writeDirect(Buffer.from('first'), 'taken');
    await expect(DirectFileWriter.create(path)).rejects.toMatchObject({ code: 'EEXIST' });
    expect(readFileSync(path, 'utf8')).toBe('first');
  });

  it('closes its file when the source fails midway, and has no digest', async () => {
    const path = join(root, 'aborted');
    const writer = (await DirectFileWriter.create(path)) as DirectFileWriter;
    const source = new Readable({
      read() {
        this.push(randomBytes(3 * 1024 * 1024));
        this.destroy(new Error('client went away'));
      },
    });
    await expect(pipeline(source, writer)).rejects.toThrow('client went away');
    writer.on('error', () => undefined); // destroy reports the source's error here too
    if (!writer.closed) await new Promise((resolve) => writer.once('close', resolve));
    expect(openPaths()).not.toContain(path);
    expect(() => writer.digest()).toThrow('before the stream finished');
    rmSync(path);
    expect(existsSync(path)).toBe(false);
  });
});

// tmpfs took no O_DIRECT before Linux 6.6 (create answers null, and the store writes the file
// buffered) and takes it since: either way a durable blob staged there comes out whole.
const shm = '/dev/shm';
describe.runIf(existsSync(shm) && fsTypeOf(shm) === 'tmpfs')('FsBlobStore on tmpfs', () => {
  it('stages and commits a multi-MiB blob whichever way the kernel writes it', async () => {
    const dir = mkdtempSync(join(shm, 'cairn-direct-'));
    try {
      const store = new FsBlobStore({ root: dir, durable: true });
      await store.recover();
      const bytes = randomBytes(3 * 1024 * 1024 + 5);
      const staged = await store.stage(Readable.from([bytes]));
      expect(staged.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
      await staged.commit();
      await staged.discard();
      expect(readFileSync(store.pathOf(staged.sha256)).equals(bytes)).toBe(true);
      expect(readdirSync(join(dir, 'tmp'))).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('hashJob (the hash worker thread)', () => {
  it('hashes interleaved jobs from shared memory, each in its own order', async () => {
    const shared = Buffer.from(new SharedArrayBuffer(3 * 65536));
    shared.set(randomBytes(shared.length));
    const a = hashJob();
    const b = hashJob();
    await Promise.all([
      a.update(shared, 0, 65536),
      b.update(shared, 65536, 131072),
      a.update(shared, 131072, 65536),
    ]);
    const [da, db] = await Promise.all([a.digest(), b.digest()]);
    const want = (...parts: Buffer[]) =>
      parts.reduce((h, p) => h.update(p), createHash('sha256')).digest('hex');
    expect(da).toBe(want(shared.subarray(0, 65536), shared.subarray(131072)));
    expect(db).toBe(want(shared.subarray(65536)));
  });

  it('refuses memory that is not shared with the worker', async () => {
    await expect(hashJob().update(Buffer.alloc(16), 0, 16)).rejects.toThrow(TypeError);
  });
});
