import { createHash, randomBytes } from 'node:crypto';
import {
  constants,
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
} from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { AlignedBuffers } from '../../src/blobs/fs/aligned-buffers.js';
import { MemoryBudget, UPLOAD_BUFFER_BYTES } from '../../src/lib/memory-budget.js';
import { DirectFileWriter } from '../../src/blobs/fs/direct-file-writer.js';
import { FsBlobStore } from '../../src/blobs/fs/fs-blob-store.js';
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

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Whether `dir`'s filesystem takes O_DIRECT (tmpfs does since Linux 6.6). */
async function takesDirectWrites(dir: string): Promise<boolean> {
  const probe = await DirectFileWriter.create(join(dir, 'probe'), new AlignedBuffers());
  if (!probe) return false;
  probe.destroy();
  await new Promise((resolve) => probe.once('close', resolve));
  rmSync(join(dir, 'probe'), { force: true });
  return true;
}

// The system's temp dir, or, where that refuses O_DIRECT (tmpfs on an older kernel), one on
// the repository's own disk, so that the direct path is tested wherever a disk takes it.
const cache = join(import.meta.dirname, '../../node_modules/.cache');
mkdirSync(cache, { recursive: true });
const candidates = [tempDir('cairn-direct-'), mkdtempSync(join(cache, 'cairn-direct-'))];
let root = candidates[1];
let directCapable = false;
for (const dir of candidates) {
  if (await takesDirectWrites(dir)) {
    root = dir;
    directCapable = true;
    break;
  }
}
/** The buffers of every direct file written under `root`, reused from one file to the next. */
const pool = new AlignedBuffers();
afterAll(() => candidates.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

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
  const writer = await DirectFileWriter.create(path, pool);
  if (!writer) throw new Error(`${root} (${fsTypeOf(root)}) refused O_DIRECT`);
  const chunks: Buffer[] = [];
  for (let at = 0, step = 1; at < bytes.length; at += step, step = (step * 7 + 13) % 70_001)
    chunks.push(bytes.subarray(at, at + step));
  await pipeline(Readable.from(chunks), writer);
  return { path, digest: writer.digest() };
}

describe.runIf(directCapable)(`DirectFileWriter (${fsTypeOf(root)} takes O_DIRECT)`, () => {
  // Around the alignment (4096), the buffer size (1 MiB) and several buffers in flight.
  const sizes = [0, 1, 4095, 4096, 4097, 1024 * 1024, 1024 * 1024 + 1, 5 * 1024 * 1024 + 123];
  for (const size of sizes) {
    it(`writes ${size} bytes exactly, with their sha256`, async () => {
      const bytes = randomBytes(size);
      const { path, digest } = await writeDirect(bytes, `f-${size}`);
      expect(readFileSync(path).equals(bytes)).toBe(true);
      expect(digest).toBe(sha256(bytes));
    });
  }

  it('refuses a path that exists (the file is created new) and leaves it as it was', async () => {
    const { path } = await writeDirect(Buffer.from('first'), 'taken');
    await expect(DirectFileWriter.create(path, pool)).rejects.toMatchObject({ code: 'EEXIST' });
    expect(readFileSync(path, 'utf8')).toBe('first');
  });

  it('writes nothing once destroyed, even a chunk it was taking (the fd may be reused)', async () => {
    for (let i = 0; i < 30; i++) {
      const writer = (await DirectFileWriter.create(
        join(root, `gone-${i}`),
        pool,
      )) as DirectFileWriter;
      writer.on('error', () => undefined);
      const closed = new Promise((resolve) => writer.once('close', resolve));
      // A full buffer is taken a microtask later; the stream dies before that.
      writer.write(Buffer.alloc(1024 * 1024, 7));
      writer.destroy(new Error('client went away'));
      await closed;
      // The next file opened is likely to get the same descriptor number.
      const victim = join(root, `victim-${i}`);
      const fd = openSync(victim, 'w');
      await new Promise((resolve) => setTimeout(resolve, 20)); // time for a stray write to land
      closeSync(fd);
      expect(readFileSync(victim).length).toBe(0);
    }
  });

  it('closes its file when the source fails midway, and has no digest', async () => {
    const path = join(root, 'aborted');
    const writer = (await DirectFileWriter.create(path, pool)) as DirectFileWriter;
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
  });

  it('reuses buffers across files, concurrent ones included, and keeps at most `keep`', async () => {
    const own = new AlignedBuffers(1);
    const fh = await open(
      join(root, 'pool-probe'),
      constants.O_WRONLY | constants.O_CREAT | constants.O_DIRECT,
    );
    try {
      const a = (await own.take(fh)) as Buffer<ArrayBuffer>;
      const b = (await own.take(fh)) as Buffer<ArrayBuffer>;
      expect(b).not.toBe(a);
      own.give(a);
      own.give(b); // one more than `keep`: dropped
      expect(await own.take(fh)).toBe(a); // no new probe: the same memory
      const c = await own.take(fh);
      expect(c).not.toBe(a);
      expect(c).not.toBe(b);
    } finally {
      await fh.close();
    }
    // Two uploads at once after others ended, all through the shared pool: none sees another's
    // bytes in a buffer it was handed.
    const [x, y] = [randomBytes(5 * 1024 * 1024 + 7), randomBytes(3 * 1024 * 1024 + 1)];
    const [wx, wy] = await Promise.all([writeDirect(x, 'pool-x'), writeDirect(y, 'pool-y')]);
    expect(readFileSync(wx.path).equals(x)).toBe(true);
    expect(readFileSync(wy.path).equals(y)).toBe(true);
    expect([wx.digest, wy.digest]).toEqual([sha256(x), sha256(y)]);
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
      expect(staged.sha256).toBe(sha256(bytes));
      await staged.commit();
      await staged.discard();
      expect(readFileSync(store.pathOf(staged.sha256)).equals(bytes)).toBe(true);
      expect(readdirSync(join(dir, 'tmp'))).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** A real budget that remembers the most it ever had reserved. */
class WatchedBudget extends MemoryBudget {
  most = 0;
  override tryReserve(bytes: number): boolean {
    const ok = super.tryReserve(bytes);
    this.most = Math.max(this.most, this.reserved);
    return ok;
  }
}

describe.runIf(directCapable)('DirectFileWriter under a memory budget', () => {
  for (const buffers of [0, 1, 2, 8]) {
    it(`with room for ${buffers} extra buffer(s): writes every byte, reserves at most 2, gives all back`, async () => {
      const budget = new WatchedBudget(buffers * UPLOAD_BUFFER_BYTES);
      const bytes = randomBytes(6 * 1024 * 1024 + 321);
      const path = join(root, `budget-${buffers}`);
      const writer = await DirectFileWriter.create(path, pool, budget);
      if (!writer) throw new Error('O_DIRECT refused');
      await pipeline(Readable.from([bytes.subarray(0, 100), bytes.subarray(100)]), writer);
      expect(readFileSync(path).equals(bytes)).toBe(true);
      expect(writer.digest()).toBe(sha256(bytes));
      expect(budget.most).toBeLessThanOrEqual(Math.min(buffers, 2) * UPLOAD_BUFFER_BYTES);
      expect(budget.reserved).toBe(0);
    });
  }
});
