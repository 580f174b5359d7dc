import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';

/**
 * sha256 (hex) of a file (by path, or already open: read from its start), streamed;
 * `onProgress` is called with the bytes hashed so far.
 */
export async function hashFile(
  path: string | FileHandle,
  onProgress?: (hashed: number) => void,
): Promise<string> {
  const h = createHash('sha256');
  let done = 0;
  for await (const c of readFrom(path)) {
    h.update(c as Buffer);
    done += (c as Buffer).length;
    onProgress?.(done);
  }
  return h.digest('hex');
}

/** A stream of a file's bytes from its start; an open handle is left open for the caller. */
export function readFrom(file: string | FileHandle): Readable {
  const highWaterMark = 1024 * 1024;
  return typeof file === 'string'
    ? createReadStream(file, { highWaterMark })
    : file.createReadStream({ start: 0, autoClose: false, highWaterMark });
}
