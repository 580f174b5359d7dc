import type { FileHandle } from 'node:fs/promises';
import { IdleCollector } from '../../lib/idle-collector.js';

/** Size of one buffer: O_DIRECT writes of 1 MiB reach this disk's rate (dd: 1.5–1.8 GB/s). */
export const CHUNK = 1024 * 1024;
/** Offsets, sizes and buffer addresses of O_DIRECT writes are kept multiples of this. */
export const ALIGN = 4096;

/**
 * 1 MiB buffers at addresses one directory's filesystem accepts for O_DIRECT, kept for reuse.
 * JavaScript cannot see a buffer's address, so a new one costs a probe: one-page writes from
 * 16-byte steps of its first page (allocations are 16-byte aligned) until the kernel takes
 * one instead of failing with EINVAL, ~16 tries on average (~3.5 ms for an upload's three
 * buffers, through libuv's pool). Kept buffers pay it once. The device decides the alignment,
 * so a pool serves the files of one directory (one blob store's `tmp/`).
 */
export class AlignedBuffers {
  private readonly idle: Buffer<ArrayBuffer>[] = [];
  /** Buffers dropped beyond `keep` are freed by a collection once uploads are quiet. */
  private readonly collector: IdleCollector;

  /**
   * @param keep most idle buffers kept (each holds 1 MiB + 4 KiB of memory)
   * @param onCollect called after each collection of dropped buffers
   */
  constructor(
    private readonly keep = 6,
    onCollect?: () => void,
  ) {
    this.collector = new IdleCollector(onCollect);
  }

  /**
   * A kept buffer, or a new one probed on `fh` (an O_DIRECT file of the pool's directory: the
   * probe's zeros land at offset `at`, a multiple of {@link CHUNK} not written yet, for the
   * file's next real write or final truncate to replace). Null if the filesystem takes no
   * offset.
   */
  async take(fh: FileHandle, at = 0): Promise<Buffer<ArrayBuffer> | null> {
    this.collector.touch();
    const kept = this.idle.pop();
    if (kept) return kept;
    const memory = new ArrayBuffer(CHUNK + ALIGN);
    for (let start = 0; start < ALIGN; start += 16) {
      try {
        await fh.write(new Uint8Array(memory, start, ALIGN), 0, ALIGN, at);
        return Buffer.from(memory, start, CHUNK);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EINVAL') throw err;
      }
    }
    return null;
  }

  /** Hands back a buffer no longer used (dropped if enough are kept). */
  give(buf: Buffer<ArrayBuffer>): void {
    if (this.idle.length < this.keep) this.idle.push(buf);
    else this.collector.drop(buf.buffer.byteLength);
  }
}
