import type { Writable } from 'node:stream';
import type { BlobBody } from './blob-store.js';

/** A {@link BlobBody} over bytes in memory. */
export function bufferBody(bytes: Buffer): BlobBody {
  return {
    writeTo: (out) => writeChunk(out, bytes),
    close: async () => undefined,
  };
}

/**
 * Writes one chunk into `out` and resolves once `out` has taken it (its buffer may be reused
 * then); rejects if `out` closes or fails first.
 */
export function writeChunk(out: Writable, chunk: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    if (out.destroyed || out.writableEnded) {
      reject(new Error('the destination closed before the body was sent'));
      return;
    }
    const onClose = (): void =>
      reject(new Error('the destination closed before the body was sent'));
    out.once('close', onClose);
    out.write(chunk, (err) => {
      out.off('close', onClose);
      if (err) reject(err);
      else resolve();
    });
  });
}
