import type { Readable, Writable } from 'node:stream';
import type { BlobBody } from '../blob-store.js';

const CLOSED = 'the destination closed before the body was sent';

/**
 * A {@link BlobBody} over a readable stream (an S3 GET's body): chunks are written as they
 * come, the stream paused while the destination's buffer is full, so a slow client slows the
 * read from S3 instead of filling memory. Resolves once the destination took the last chunk.
 */
export class StreamBody implements BlobBody {
  private closed = false;

  constructor(private readonly stream: Readable) {}

  async writeTo(out: Writable): Promise<void> {
    try {
      let last: Promise<void> = Promise.resolve();
      for await (const chunk of this.stream) {
        if (out.destroyed || out.writableEnded) throw new Error(CLOSED);
        last = new Promise<void>((res, rej) => out.write(chunk, (e) => (e ? rej(e) : res())));
        last.catch(() => undefined); // awaited at the end (or a later write fails first)
        if (out.writableNeedDrain) await drained(out);
      }
      await last;
    } finally {
      await this.close();
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stream.destroy();
  }
}

/** Resolves on `out`'s next 'drain'; rejects if it closes first. */
function drained(out: Writable): Promise<void> {
  return new Promise((res, rej) => {
    const onDrain = () => {
      out.off('close', onClose);
      res();
    };
    const onClose = () => {
      out.off('drain', onDrain);
      rej(new Error(CLOSED));
    };
    out.once('drain', onDrain);
    out.once('close', onClose);
  });
}
