import type { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type {
  BlobBody,
  BlobStore,
  ByteRange,
  RecoverReport,
  StagedBlob,
  StageOptions,
} from '../blob-store.js';
import type { MemoryBudget } from '../../lib/memory-budget.js';
import {
  blobNotFound,
  checkBucket,
  isNotFound,
  makeS3Client,
  translateS3Error,
} from './s3-client.js';
import { listObjects, sweepAbandoned } from './s3-sweep.js';
import { S3Stager } from './s3-stager.js';
import type { S3Location } from './s3-url.js';
import { StreamBody } from './stream-body.js';

/** Options for {@link S3BlobStore}. */
export interface S3BlobStoreOptions {
  location: S3Location;
  /** A client to use (default: one made for `location`, see makeS3Client). */
  client?: S3Client;
  /** Bytes per multipart part (default 8 MiB; S3 needs at least 5 MiB). */
  partSize?: number;
  /** Parts of one upload sent at once at most (default 4). */
  lanes?: number;
  /** What lanes beyond an upload's first are reserved from. */
  memory?: MemoryBudget;
  /** Age after which an unfinished upload counts as abandoned (default 24 h). */
  abandonedAfterMs?: number;
}

const SHA_RE = /^[0-9a-f]{64}$/;
/** The layout's version: keys are `PREFIX/v1/blobs/ab/<sha256>`, uploads `PREFIX/v1/tmp/…`. */
const LAYOUT = 'v1';

/**
 * Blobs as objects of an S3 bucket (`s3://BUCKET/PREFIX`), content-addressed under
 * `PREFIX/v1/blobs/ab/<sha256>`. A push streams into a multipart upload of fixed-size parts
 * while hashing (see streamToS3): with an announced digest the upload is opened on the final
 * key, else on a temporary key copied into place on commit. Parts stay invisible until
 * `commit` completes the upload, so a wrong digest, an aborted body or a discard leaves
 * nothing visible, and the upload is aborted at once. An announced digest whose bytes are
 * already stored uploads nothing. S3 unreachable → BlobStoreUnavailableError (503). Of
 * concurrent commits of the same bytes exactly one reports them new within a process (and for
 * single-PUT bodies across processes, by If-None-Match); two nodes completing the same
 * multipart body at once may both say new, which costs nothing but that flag.
 *
 * A signed DELETE can land up to 15 minutes after it was sent (S3's clock-skew window):
 * {@link deleteHorizonMs} tells the core to wait that long before taking over a dead
 * collector's mark.
 */
export class S3BlobStore implements BlobStore {
  readonly deleteHorizonMs = 15 * 60_000;
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly base: string;
  private readonly stager: S3Stager;

  constructor(private readonly o: S3BlobStoreOptions) {
    this.client = o.client ?? makeS3Client(o.location);
    this.bucket = o.location.bucket;
    this.base = `${o.location.prefix ? `${o.location.prefix}/` : ''}${LAYOUT}/`;
    this.stager = new S3Stager({
      client: this.client,
      bucket: this.bucket,
      location: o.location,
      tmpPrefix: `${this.base}tmp/`,
      keyOf: (sha) => this.keyOf(sha),
      has: (sha) => this.has(sha),
      partSize: o.partSize ?? 8 * 1024 * 1024,
      lanes: o.lanes ?? 4,
      memory: o.memory,
    });
  }

  /** Opens the store, checking the bucket and credentials (see checkBucket). */
  static async open(o: S3BlobStoreOptions): Promise<S3BlobStore> {
    const store = new S3BlobStore(o);
    try {
      await checkBucket(store.client, o.location);
    } catch (err) {
      await store.close();
      throw err;
    }
    return store;
  }

  /** The object key of a blob. */
  keyOf(sha256: string): string {
    return `${this.base}blobs/${sha256.slice(0, 2)}/${sha256}`;
  }

  /**
   * Streams `source` into the bucket (see {@link S3Stager}); the bytes become visible only on
   * `commit`. Throws DigestMismatchError, TooLargeError, BlobStoreUnavailableError.
   */
  stage(source: Readable, opts: StageOptions = {}): Promise<StagedBlob> {
    return this.stager.stage(source, opts);
  }

  async has(sha256: string): Promise<boolean> {
    try {
      await this.stat(sha256);
      return true;
    } catch (err) {
      if (isNotFound(err) || (err as { status?: number }).status === 404) return false;
      throw err;
    }
  }

  async stat(sha256: string): Promise<{ size: number }> {
    try {
      const r = await this.client.send(
        new HeadObjectCommand({ Bucket: this.bucket, Key: this.keyOf(sha256) }),
      );
      return { size: r.ContentLength ?? 0 };
    } catch (err) {
      if (isNotFound(err)) throw blobNotFound(sha256);
      throw translateS3Error(err, this.o.location);
    }
  }

  async get(sha256: string, range?: ByteRange): Promise<Readable> {
    try {
      const r = await this.client.send(
        new GetObjectCommand({
          Bucket: this.bucket,
          Key: this.keyOf(sha256),
          Range: range ? `bytes=${range.start}-${range.end}` : undefined,
        }),
      );
      return r.Body as Readable;
    } catch (err) {
      if (isNotFound(err)) throw blobNotFound(sha256);
      throw translateS3Error(err, this.o.location);
    }
  }

  async getBody(sha256: string, range?: ByteRange): Promise<BlobBody> {
    return new StreamBody(await this.get(sha256, range));
  }

  async delete(sha256: string): Promise<void> {
    try {
      await this.client.send(
        new DeleteObjectCommand({ Bucket: this.bucket, Key: this.keyOf(sha256) }),
      );
    } catch (err) {
      throw translateS3Error(err, this.o.location);
    }
  }

  async *list(): AsyncIterable<string> {
    try {
      for await (const o of listObjects(this.client, this.bucket, `${this.base}blobs/`)) {
        const name = o.Key?.slice(o.Key.lastIndexOf('/') + 1) ?? '';
        if (SHA_RE.test(name)) yield name;
      }
    } catch (err) {
      throw translateS3Error(err, this.o.location);
    }
  }

  /**
   * Removes uploads abandoned longer than `abandonedAfterMs` (a dead node's; another node's
   * push in progress is newer and stays). A crash between a commit and the catalog row leaves
   * an unreferenced object, which `cairn fsck --repair` removes (no per-node journal here).
   */
  async recover(): Promise<RecoverReport> {
    await this.sweepAbandoned(Date.now());
    return { orphansRemoved: [] };
  }

  async sweepAbandoned(now: number): Promise<number> {
    const cutoff = now - (this.o.abandonedAfterMs ?? 24 * 3600_000);
    try {
      return await sweepAbandoned(this.client, this.bucket, this.base, cutoff);
    } catch (err) {
      throw translateS3Error(err, this.o.location);
    }
  }

  async ping(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
    } catch (err) {
      throw translateS3Error(err, this.o.location);
    }
  }

  async close(): Promise<void> {
    this.client.destroy();
  }
}
