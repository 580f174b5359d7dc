import type { Readable, Writable } from 'node:stream';
import type { BlobBody, BlobStore, ByteRange } from './blob-store.js';

/**
 * The store's {@link BlobStore.getBody} when it has one, else a body over `get`'s stream
 * (piped into the destination without ending it). Throws NotFoundError like `get`.
 */
export async function openBody(
  store: BlobStore,
  sha256: string,
  range?: ByteRange,
): Promise<BlobBody> {
  if (store.getBody) return store.getBody(sha256, range);
  return streamBody(await store.get(sha256, range));
}

/** A {@link BlobBody} over a readable stream of its bytes. */
export function streamBody(source: Readable): BlobBody {
  return {
    writeTo: (out) => pipeInto(source, out),
    close: async () => {
      source.destroy();
    },
  };
}

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

/** Pipes `source` into `out` with backpressure, leaving `out` open. */
function pipeInto(source: Readable, out: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    const fail = (err: unknown): void => {
      cleanup();
      source.destroy();
      reject(err instanceof Error ? err : new Error(String(err)));
    };
    const onClose = (): void => fail(new Error('the destination closed before the body was sent'));
    const onEnd = (): void => {
      cleanup();
      resolve();
    };
    const cleanup = (): void => {
      source.off('error', fail).off('end', onEnd);
      out.off('close', onClose).off('error', fail);
      source.unpipe(out);
    };
    source.once('error', fail).once('end', onEnd);
    out.once('close', onClose).once('error', fail);
    source.pipe(out, { end: false });
  });
}
