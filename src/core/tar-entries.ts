import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type tar from 'tar-stream';

/**
 * Adds one entry of `size` bytes to `pack`, from a stream or a buffer, and waits until
 * tar-stream has taken all of them; rejects (destroying the source) if `pack` closes first. Entries carry mtime 0 so the same content packs the same.
 */
export function addTarEntry(
  pack: tar.Pack,
  name: string,
  size: number,
  source: Readable | Buffer,
  mode = 0o644,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    // A pack destroyed meanwhile (its reader gone) never calls back and takes no new entry:
    // settle on its close too, or the caller would wait forever holding what it holds (a
    // snapshot, blob deletions).
    const closed = () => {
      if (!Buffer.isBuffer(source)) source.destroy();
      reject(prematureClose());
    };
    if ((pack as unknown as { destroyed?: boolean }).destroyed) return closed();
    pack.once('close', closed);
    const entry = pack.entry({ name, size, mode, mtime: new Date(0) }, (err) => {
      pack.off('close', closed);
      if (err) reject(err);
      else resolve();
    });
    if (Buffer.isBuffer(source)) entry.end(source);
    else pipeline(source, entry).catch(reject);
  });
}

/** What a write into a stream whose reader left fails with (as Node's own streams do). */
function prematureClose(): Error {
  return Object.assign(new Error('the tar stream closed early'), {
    code: 'ERR_STREAM_PREMATURE_CLOSE',
  });
}
