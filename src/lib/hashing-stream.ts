import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';

/** What a stream of bytes hashed to. */
export interface Hashed {
  /** Lowercase hex sha256. */
  sha256: string;
  size: number;
}

/**
 * A pass-through stream that hashes (sha256) and counts the bytes going through it, for
 * checking a download or an extracted file against its record while it is written.
 */
export class HashingStream extends Transform {
  private readonly hash: Hash = createHash('sha256');
  private size = 0;
  private result: Hashed | null = null;

  /** @param onProgress Called with the bytes seen so far, after each chunk. */
  constructor(private readonly onProgress?: (bytes: number) => void) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.hash.update(chunk);
    this.size += chunk.length;
    this.onProgress?.(this.size);
    cb(null, chunk);
  }

  /** The hash and size of the bytes seen; call once they all went through (later calls agree). */
  hashed(): Hashed {
    return (this.result ??= { sha256: this.hash.digest('hex'), size: this.size });
  }

  /** True if the bytes seen are exactly `expected` (same sha256 and size). */
  matches(expected: Hashed): boolean {
    const got = this.hashed();
    return got.size === expected.size && got.sha256 === expected.sha256;
  }
}

/** Reads `source` to its end and returns the sha256 and size of its bytes. */
export async function hashStream(source: AsyncIterable<unknown>): Promise<Hashed> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of source) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { sha256: hash.digest('hex'), size };
}
