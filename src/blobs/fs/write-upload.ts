import { createHash, type Hash } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import * as fsp from 'node:fs/promises';
import { Transform, type Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { TooLargeError } from '../../lib/errors.js';
import type { MemoryBudget } from '../../lib/memory-budget.js';
import type { AlignedBuffers } from './aligned-buffers.js';
import { DirectFileWriter } from './direct-file-writer.js';
import { FlushBehind } from './flush-behind.js';

/** How {@link writeUpload} writes its file. */
export interface WriteUploadOptions {
  /** The file is on disk (fsynced) when the promise resolves; otherwise in the page cache. */
  durable: boolean;
  /**
   * When durable: write with O_DIRECT where the filesystem takes it (see DirectFileWriter),
   * with buffers from this pool of the file's directory; null to write buffered.
   */
  directBuffers: AlignedBuffers | null;
  /** When durable and written buffered, write back every this many bytes (see FlushBehind). */
  flushEvery: number;
  /** Fail with TooLargeError once more bytes than this arrive. */
  maxSize?: number;
  /** What direct writes reserve buffers beyond their first from (default: no limit). */
  memory?: MemoryBudget;
}

/** Write buffers of the buffered path (1 MiB measured +60% over the 16 KiB default). */
const CHUNK = 1024 * 1024;

/**
 * Streams `source` into a new file at `path`, counting and hashing it, and resolves with its
 * sha256 and size once the file holds every byte (durable: fsynced). Durable uploads go
 * through a DirectFileWriter (O_DIRECT, hashed and written by the upload worker thread) where the
 * filesystem takes it, else through a buffered write stream hashed on this thread. Rejects
 * with TooLargeError past `maxSize`, or with the source's or the disk's error; the file is
 * removed then.
 */
export async function writeUpload(
  source: Readable,
  path: string,
  opts: WriteUploadOptions,
): Promise<{ sha256: string; size: number }> {
  // The source may come with no listener (see readWithin): hold an error it raises while the
  // file is opened; the pipeline below finds it on the source and fails with it. If the open
  // fails, the unread source keeps the listener, so a later error of it (the client going
  // away while the failure is answered) is not left unhandled.
  const held = () => undefined;
  source.on('error', held);
  const pool = opts.durable ? opts.directBuffers : null;
  const direct = pool ? await DirectFileWriter.create(path, pool, opts.memory) : null;
  source.off('error', held);
  const out = direct ?? createWriteStream(path, { highWaterMark: CHUNK });
  const behind =
    opts.durable && !direct ? new FlushBehind(out as WriteStream, opts.flushEvery) : null;
  const hash: Hash | null = direct ? null : createHash('sha256');
  let size = 0;
  const meter = new Transform({
    highWaterMark: CHUNK,
    transform(chunk: Buffer, _enc, cb) {
      size += chunk.length;
      if (opts.maxSize !== undefined && size > opts.maxSize) {
        const limit = opts.maxSize;
        cb(new TooLargeError(`the upload exceeds the server's maximum size of ${limit} bytes`));
        return;
      }
      hash?.update(chunk);
      cb(behind?.wrote(chunk.length) ?? null, chunk);
    },
    flush(cb) {
      if (!behind) return cb();
      behind.settle().then(() => cb(), cb);
    },
  });
  try {
    await pipeline(source, meter, out);
    // A direct write fdatasyncs its file before its stream finishes.
    if (opts.durable && !direct) await fsyncPath(path);
    return {
      sha256: direct?.digest() ?? (hash as Hash).digest('hex'),
      size,
    };
  } catch (err) {
    // If the pipeline failed before the file was even open (size limit on the first chunk),
    // the open still completes later: wait for the stream to close so it cannot recreate
    // the file after the cleanup.
    if (!out.closed) await closed(out);
    await fsp.rm(path, { force: true });
    throw err;
  }
}

/** fsyncs a file or a directory (for a directory: the names in it, after a rename). */
export async function fsyncPath(path: string): Promise<void> {
  const fh = await fsp.open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Resolves when `stream` has closed; its errors were reported to whoever piped it. */
function closed(stream: Writable): Promise<void> {
  return new Promise((resolve) => {
    stream.on('error', () => undefined);
    if (stream.closed) resolve();
    else stream.once('close', () => resolve());
  });
}
