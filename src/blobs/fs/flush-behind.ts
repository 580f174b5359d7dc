import { fdatasync } from 'node:fs';
import type { WriteStream } from 'node:fs';

/**
 * Writes back a file while it is still being written: every `every` bytes, starts an
 * fdatasync of the write stream's descriptor on libuv's pool (one at a time; the writes never
 * wait for it). The kernel would otherwise keep a large upload dirty in the page cache until
 * the final fsync, which then writes all of it while the client waits; flushing behind the
 * upload overlaps the disk's work with receiving, so the final fsync finds little left.
 * A failed flush is kept and reported (a later fsync on another descriptor might not see it).
 */
export class FlushBehind {
  private written = 0;
  private pending: Promise<void> | null = null;
  private error: Error | null = null;

  constructor(
    private readonly out: WriteStream,
    private readonly every: number,
  ) {}

  /** Counts `n` more bytes handed to the stream; returns a flush error seen so far, if any. */
  wrote(n: number): Error | null {
    this.written += n;
    const fd = (this.out as WriteStream & { fd: number | null }).fd;
    if (this.written >= this.every && !this.pending && typeof fd === 'number') {
      this.written = 0;
      this.pending = new Promise<void>((resolve) =>
        fdatasync(fd, (err) => {
          if (err) this.error ??= err;
          this.pending = null;
          resolve();
        }),
      );
    }
    return this.error;
  }

  /** Waits for a flush under way; rejects with any flush error. Call before the stream ends. */
  async settle(): Promise<void> {
    await this.pending;
    if (this.error) throw this.error;
  }
}
