import type { Readable } from 'node:stream';

/**
 * Reads `source` whole if it ends within `limit` bytes and resolves with its bytes. If more
 * arrive, puts everything read back (`unshift`), detaches, and resolves with what
 * `overflow(source)` returns, called at once: the source must not be left without listeners
 * (its 'end' or 'error' would be missed), so `overflow` has to attach its own before returning,
 * as `pipeline` does. Rejects with the source's error, or
 * ERR_STREAM_PREMATURE_CLOSE if it closes before its end (an aborted upload). Plain listeners
 * rather than `pipeline`: for a 1 KiB push, pipeline's AbortController and the DOMException it
 * creates on every finish cost more than the hashing.
 */
export function readWithin<T>(
  source: Readable,
  limit: number,
  overflow: (source: Readable) => Promise<T>,
): Promise<Buffer | T> {
  return new Promise<Buffer | T>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const detach = () => {
      source.off('data', onData);
      source.off('end', onEnd);
      source.off('error', onError);
      source.off('close', onClose);
    };
    const onData = (chunk: Buffer | string) => {
      // A source with setEncoding() yields text: turn it back into the bytes it decoded.
      const buf =
        typeof chunk === 'string' ? Buffer.from(chunk, source.readableEncoding ?? 'utf8') : chunk;
      chunks.push(buf);
      size += buf.length;
      if (size <= limit) return;
      source.pause();
      detach();
      source.unshift(Buffer.concat(chunks));
      resolve(overflow(source));
    };
    const onEnd = () => {
      detach();
      resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks));
    };
    const onError = (err: Error) => {
      detach();
      reject(err);
    };
    const onClose = () => onError(prematureClose());
    if (source.errored) return reject(source.errored);
    if (source.readableEnded) return resolve(Buffer.alloc(0));
    if (source.destroyed) return reject(prematureClose());
    source.on('data', onData);
    source.once('end', onEnd);
    source.once('error', onError);
    source.once('close', onClose);
  });
}

function prematureClose(): Error {
  return Object.assign(new Error('Premature close'), { code: 'ERR_STREAM_PREMATURE_CLOSE' });
}
