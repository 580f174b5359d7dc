import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stopWriteWorker, writeJob } from '../../src/blobs/fs/write-worker.js';
import { tempDir } from '../helpers/server.js';

// The upload worker thread that DirectFileWriter hands its buffers to (direct-file-writer.test.ts
// covers the writer itself).

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const root = tempDir('cairn-write-job-');
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('writeJob (the upload worker thread)', () => {
  /** A fresh ArrayBuffer holding `bytes`, as the writer hands over. */
  const memoryOf = (bytes: Buffer) => {
    const memory = new ArrayBuffer(bytes.length);
    new Uint8Array(memory).set(bytes);
    return memory;
  };

  it('writes where asked and hashes each job in the order its buffers were sent', async () => {
    const fa = openSync(join(root, 'job-a'), 'w');
    const fb = openSync(join(root, 'job-b'), 'w');
    try {
      const [a1, a2, b1] = [randomBytes(70_000), randomBytes(5), randomBytes(4096)];
      const a = writeJob(fa);
      const b = writeJob(fb);
      // a2 is written before a1 in the file, but hashed after it, as sent.
      const back = await Promise.all([
        a.write(memoryOf(a1), 0, a1.length, a1.length, 5),
        b.write(memoryOf(b1), 0, b1.length, 100, 0),
        a.write(memoryOf(a2), 0, a2.length, a2.length, 0),
      ]);
      expect(back.map((m) => m.byteLength)).toEqual([a1.length, b1.length, a2.length]);
      expect(await a.digest()).toBe(sha256(Buffer.concat([a1, a2])));
      expect(await b.digest()).toBe(sha256(b1.subarray(0, 100)));
      expect(readFileSync(join(root, 'job-a')).equals(Buffer.concat([a2, a1]))).toBe(true);
      expect(readFileSync(join(root, 'job-b')).equals(b1)).toBe(true);
    } finally {
      closeSync(fa);
      closeSync(fb);
    }
  });

  it("rejects with the write's error code", async () => {
    const fd = openSync(join(root, 'job-a'), 'r');
    try {
      const job = writeJob(fd);
      await expect(job.write(memoryOf(Buffer.from('x')), 0, 1, 1, 0)).rejects.toMatchObject({
        code: 'EBADF',
      });
    } finally {
      closeSync(fd);
    }
  });

  it('refuses to go on with a job whose worker stopped (its hash would miss bytes)', async () => {
    const fd = openSync(join(root, 'job-stop'), 'w');
    try {
      const job = writeJob(fd);
      await job.write(memoryOf(Buffer.from('first')), 0, 5, 5, 0);
      await stopWriteWorker();
      await expect(job.write(memoryOf(Buffer.from('next')), 0, 4, 4, 5)).rejects.toThrow(
        'restarted during this upload',
      );
      await expect(job.digest()).rejects.toThrow('restarted during this upload');
      const fresh = writeJob(fd);
      await fresh.write(memoryOf(Buffer.from('again')), 0, 5, 5, 0);
      expect(await fresh.digest()).toBe(sha256(Buffer.from('again')));
    } finally {
      closeSync(fd);
    }
  });

  it('keeps the process alive while it owes answers, and not after', () => {
    const module = join(import.meta.dirname, '../../build/blobs/fs/write-worker.js');
    const script = `
      import { openSync } from 'node:fs';
      import { writeJob } from ${JSON.stringify(module)};
      const job = writeJob(openSync(${JSON.stringify(join(root, 'job-exit'))}, 'w'));
      const memory = new ArrayBuffer(3);
      new Uint8Array(memory).set([1, 2, 3]);
      job.write(memory, 0, 3, 3, 0).then(() => job.digest()).then((hex) => console.log(hex));`;
    const file = join(root, 'job-exit.mjs');
    writeFileSync(file, script);
    const r = spawnSync(process.execPath, [file], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(r.error).toBeUndefined(); // no timeout: the idle worker let the process end
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(sha256(Buffer.from([1, 2, 3])));
  });
});
