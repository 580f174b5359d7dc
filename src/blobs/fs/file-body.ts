import type { FileHandle } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { writeChunk } from '../blob-body.js';
import type { BlobBody } from '../blob-store.js';

/** Read size of the serving path (1 MiB reads measured 2.7× faster than 64 KiB ones). */
const CHUNK = 1024 * 1024;
/**
 * Reads kept in flight. A file not in the page cache (a blob written with O_DIRECT, see
 * DirectFileWriter) came off this machine's disk at ~0.65 GB/s one 1 MiB read at a time and
 * ~1.1 GB/s four at a time; from the page cache it makes no difference.
 */
const LANES = 4;

/**
 * Sends bytes `start..end` (inclusive) of an open file through {@link LANES} reused buffers:
 * the next chunks are read while the current one is being written, and a buffer is refilled
 * only after the destination has taken it. Allocating a fresh 1 MiB buffer per chunk, as a
 * file ReadStream does, measured ~30% slower for a 1 GiB download (allocation and GC).
 */
export class FileBody implements BlobBody {
  private closed = false;

  constructor(
    private readonly fh: FileHandle,
    private readonly start: number,
    private readonly end: number,
  ) {}

  async writeTo(out: Writable): Promise<void> {
    const reads: Promise<Buffer>[] = [];
    try {
      const length = this.end - this.start + 1;
      const size = Math.min(CHUNK, length);
      const lanes = Math.min(LANES, Math.ceil(length / size));
      const free: Buffer[] = Array.from({ length: lanes }, () => Buffer.allocUnsafeSlow(size));
      let next = this.start;
      const readMore = () => {
        while (free.length > 0 && next <= this.end) {
          const want = Math.min(size, this.end - next + 1);
          const read = this.readChunk(free.pop() as Buffer, want, next);
          // Awaited in turn below; until then a failure must not count as unhandled.
          read.catch(() => undefined);
          reads.push(read);
          next += want;
        }
      };
      readMore();
      while (reads.length > 0) {
        const chunk = await (reads.shift() as Promise<Buffer>);
        await writeChunk(out, chunk);
        // Only the range's last chunk is shorter than a buffer, and nothing is read after it.
        free.push(chunk);
        readMore();
      }
    } finally {
      // Reads still in flight (the destination failed) must finish before the file closes.
      await Promise.allSettled(reads);
      await this.close();
    }
  }

  /** Reads exactly `want` bytes at `at` into `buf`; the file must hold them. */
  private async readChunk(buf: Buffer, want: number, at: number): Promise<Buffer> {
    const { bytesRead } = await this.fh.read(buf, 0, want, at);
    if (bytesRead < want) throw new Error('the blob file is shorter than its recorded size');
    return bytesRead === buf.length ? buf : buf.subarray(0, bytesRead);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.fh.close();
  }
}
