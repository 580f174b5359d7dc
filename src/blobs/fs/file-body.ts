import type { FileHandle } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { writeChunk } from '../blob-body.js';
import type { BlobBody } from '../blob-store.js';

/** Read size of the serving path (1 MiB reads measured 2.7× faster than 64 KiB ones). */
const CHUNK = 1024 * 1024;

/**
 * Sends bytes `start..end` (inclusive) of an open file with two reused buffers: the next chunk
 * is read while the previous one is being written, and a buffer is refilled only after the
 * destination has taken it. Allocating a fresh 1 MiB buffer per chunk, as a file ReadStream
 * does, measured ~30% slower for a 1 GiB download (allocation and GC of the buffers).
 */
export class FileBody implements BlobBody {
  private closed = false;

  constructor(
    private readonly fh: FileHandle,
    private readonly start: number,
    private readonly end: number,
  ) {}

  async writeTo(out: Writable): Promise<void> {
    try {
      const length = this.end - this.start + 1;
      const size = Math.min(CHUNK, length);
      const bufs = [
        Buffer.allocUnsafeSlow(size),
        length > size ? Buffer.allocUnsafeSlow(size) : null,
      ];
      let pos = this.start;
      let turn = 0;
      let writing: Promise<void> | null = null;
      while (pos <= this.end) {
        const buf = bufs[turn++ & 1] as Buffer;
        const want = Math.min(size, this.end - pos + 1);
        const { bytesRead } = await this.fh.read(buf, 0, want, pos);
        if (writing) await writing;
        if (bytesRead === 0) throw new Error('the blob file is shorter than its recorded size');
        pos += bytesRead;
        writing = writeChunk(out, bytesRead === buf.length ? buf : buf.subarray(0, bytesRead));
        // A failed write surfaces at the next await; keep it from being reported unhandled.
        writing.catch(() => undefined);
      }
      if (writing) await writing;
    } finally {
      await this.close();
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.fh.close();
  }
}
