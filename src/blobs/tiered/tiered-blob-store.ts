import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { bufferBody } from '../blob-body.js';
import type {
  BlobBody,
  BlobStore,
  ByteRange,
  RecoverOptions,
  RecoverReport,
  StagedBlob,
  StageOptions,
} from '../blob-store.js';
import { readWithin } from '../read-within.js';
import type { SmallBlobStore } from '../small-blob-store.js';
import { DigestMismatchError, TooLargeError } from '../../lib/errors.js';

/** Options for {@link TieredBlobStore}. */
export interface TieredBlobStoreOptions {
  /** Where blobs of at most `inlineMax` bytes go. */
  small: SmallBlobStore;
  /** Where larger blobs go (streamed, never buffered whole). */
  large: BlobStore;
  /** Largest blob kept in `small`, in bytes. */
  inlineMax: number;
}

/**
 * Inline values checked for orphans at start: far more than the pushes that can be between
 * the blob's commit and the catalog row's at any moment (one per open connection).
 */
const RECENT_WINDOW = 4096;

/**
 * Small blobs as values in a {@link SmallBlobStore} (one group-committed row instead of a file
 * create, fsync, rename and directory fsync), larger ones in a streaming BlobStore. An upload
 * is buffered in memory only up to `inlineMax` bytes; past that, the buffered part and the
 * rest stream into the large store. Reads, `has`, `stat` and `delete` look in both (a blob
 * stored as a file before this store existed keeps being served), so the per-hash locking
 * contract of {@link BlobStore} holds unchanged.
 */
export class TieredBlobStore implements BlobStore {
  readonly deleteHorizonMs?: number;

  constructor(private readonly o: TieredBlobStoreOptions) {
    this.deleteHorizonMs = o.large.deleteHorizonMs;
  }

  async sweepAbandoned(now: number): Promise<number> {
    return (await this.o.large.sweepAbandoned?.(now)) ?? 0;
  }

  async recover(opts: RecoverOptions = {}): Promise<RecoverReport> {
    const report = await this.o.large.recover(opts);
    if (opts.isReferenced) {
      const inline = await this.o.small.removeRecentOrphans(
        opts.isReferenced,
        RECENT_WINDOW,
        opts.collect,
      );
      report.orphansRemoved.push(...inline);
    }
    return report;
  }

  async close(): Promise<void> {
    await this.o.large.close();
  }

  /** The large store's ping: the small tier lives in the catalog, which is pinged on its own. */
  async ping(): Promise<void> {
    await this.o.large.ping();
  }

  async stage(source: Readable, opts: StageOptions = {}): Promise<StagedBlob> {
    // Too large to keep inline: the large store streams it from its first byte.
    const bytes = await readWithin(source, this.o.inlineMax, (s) => this.o.large.stage(s, opts));
    if (!Buffer.isBuffer(bytes)) return bytes;
    if (opts.maxSize !== undefined && bytes.length > opts.maxSize)
      throw new TooLargeError(
        `the upload exceeds the server's maximum size of ${opts.maxSize} bytes`,
      );
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    if (opts.expectedSha256 !== undefined && opts.expectedSha256 !== sha256) {
      throw new DigestMismatchError(
        `the body's sha256 is ${sha256} but the request announced ${opts.expectedSha256}; nothing was stored`,
      );
    }
    let done = false;
    return {
      sha256,
      size: bytes.length,
      inline: { store: this.o.small, bytes },
      commit: async () => {
        if (done) return false;
        const created = await this.o.small.put(sha256, bytes);
        done = true;
        return created;
      },
      discard: async () => {
        done = true;
      },
    };
  }

  async has(sha256: string): Promise<boolean> {
    return (await this.o.small.size(sha256)) !== null || this.o.large.has(sha256);
  }

  async stat(sha256: string): Promise<{ size: number }> {
    const size = await this.o.small.size(sha256);
    return size !== null ? { size } : this.o.large.stat(sha256);
  }

  async get(sha256: string, range?: ByteRange): Promise<Readable> {
    const bytes = await this.o.small.get(sha256);
    if (bytes === null) return this.o.large.get(sha256, range);
    const part = range ? bytes.subarray(range.start, range.end + 1) : bytes;
    return Readable.from([part], { objectMode: false });
  }

  async getBody(sha256: string, range?: ByteRange): Promise<BlobBody> {
    const bytes = await this.o.small.get(sha256);
    if (bytes === null) return this.o.large.getBody(sha256, range);
    return bufferBody(range ? bytes.subarray(range.start, range.end + 1) : bytes);
  }

  async delete(sha256: string): Promise<void> {
    await this.o.small.delete(sha256);
    await this.o.large.delete(sha256);
  }

  async *list(): AsyncIterable<string> {
    const seen = new Set<string>();
    for await (const sha of this.o.small.list()) {
      seen.add(sha);
      yield sha;
    }
    for await (const sha of this.o.large.list()) if (!seen.has(sha)) yield sha;
  }
}
