import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type tar from 'tar-stream';

/**
 * Adds one entry of `size` bytes to `pack`, from a stream or a buffer, and waits until
 * tar-stream has taken all of them. Entries carry mtime 0 so the same content packs the same.
 */
export function addTarEntry(
  pack: tar.Pack,
  name: string,
  size: number,
  source: Readable | Buffer,
  mode = 0o644,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const entry = pack.entry({ name, size, mode, mtime: new Date(0) }, (err) =>
      err ? reject(err) : resolve(),
    );
    if (Buffer.isBuffer(source)) entry.end(source);
    else pipeline(source, entry).catch(reject);
  });
}
