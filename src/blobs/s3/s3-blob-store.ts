import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  PutObjectCommand,
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
import { BlobCollectedError, DigestMismatchError, TooLargeError } from '../../lib/errors.js';
import { hashStream } from '../../lib/hashing-stream.js';
import type { MemoryBudget } from '../../lib/memory-budget.js';
import {
  blobNotFound,
  checkBucket,
  isNotFound,
  ifAbsent,
  makeS3Client,
  translateS3Error,
} from './s3-client.js';
import { completeUpload, copyObject } from './s3-copy.js';
import { listObjects, sweepAbandoned } from './s3-sweep.js';
import { abortUpload, streamToS3, type StreamedBody } from './s3-upload.js';
import type { S3Location } from './s3-url.js';
import { StreamBody } from './stream-body.js';
import { KeyedQueue } from './keyed-queue.js';

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
  /** Commits of the same bytes run one at a time (see KeyedQueue). */
  private readonly commits = new KeyedQueue();

  constructor(private readonly o: S3BlobStoreOptions) {
    this.client = o.client ?? makeS3Client(o.location);
    this.bucket = o.location.bucket;
    this.base = `${o.location.prefix ? `${o.location.prefix}/` : ''}${LAYOUT}/`;
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

  async stage(source: Readable, opts: StageOptions = {}): Promise<StagedBlob> {
    try {
      const expected = opts.expectedSha256;
      if (expected !== undefined && (await this.has(expected)))
        return await this.stageKnown(source, expected, opts);
      const key = expected
        ? this.keyOf(expected)
        : `${this.base}tmp/${Date.now()}-${randomBytes(8).toString('hex')}`;
      const body = await streamToS3(source, {
        client: this.client,
        bucket: this.bucket,
        key,
        partSize: this.o.partSize ?? 8 * 1024 * 1024,
        lanes: this.o.lanes ?? 4,
        memory: this.o.memory,
        maxSize: opts.maxSize,
      });
      if (expected !== undefined && body.sha256 !== expected) {
        if (body.multipart) await this.abort(body.multipart);
        throw mismatch(body.sha256, expected);
      }
      return this.staged(body);
    } catch (err) {
      throw translateS3Error(err, this.o.location);
    }
  }

  /** Bytes already stored: the body is only read and hashed (to verify it), not uploaded. */
  private async stageKnown(source: Readable, sha256: string, opts: StageOptions) {
    const got = await hashStream(source);
    if (opts.maxSize !== undefined && got.size > opts.maxSize)
      throw new TooLargeError(
        `the upload exceeds the server's maximum size of ${opts.maxSize} bytes`,
      );
    if (got.sha256 !== sha256) throw mismatch(got.sha256, sha256);
    return this.staged({ ...got });
  }

  private staged(body: StreamedBody): StagedBlob {
    const { sha256, size } = body;
    let open = body.multipart;
    let done = false;
    return {
      sha256,
      size,
      commit: () =>
        this.commits.run(sha256, async () => {
          if (done) return false;
          try {
            if (await this.has(sha256)) {
              if (open) await this.abort(open);
              open = undefined;
              done = true;
              return false;
            }
            let created = true;
            if (body.bytes) created = await this.put(sha256, body.bytes);
            else if (!open)
              throw new BlobCollectedError(sha256); // were there, collected since
            else {
              const mp = open;
              open = undefined;
              const final = mp.key === this.keyOf(sha256);
              created = await ifAbsent(completeUpload(this.client, this.bucket, mp, final));
              if (!created) await this.abort(mp);
              else if (!final) await this.moveIntoPlace(mp.key, sha256, size);
            }
            done = true;
            return created;
          } catch (err) {
            throw translateS3Error(err, this.o.location);
          }
        }),
      discard: async () => {
        done = true;
        if (open) await this.abort(open);
        open = undefined;
      },
    };
  }

  /** Stores small bytes in one PUT; false if a concurrent commit stored them first. */
  private put(sha256: string, bytes: Buffer): Promise<boolean> {
    return ifAbsent(
      this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: this.keyOf(sha256),
          Body: bytes,
          ContentLength: bytes.length,
          IfNoneMatch: '*',
        }),
      ),
    );
  }

  /** Copies a completed temporary object to its final key and removes it. */
  private async moveIntoPlace(tmp: string, sha256: string, size: number): Promise<void> {
    try {
      await copyObject(this.client, this.bucket, tmp, this.keyOf(sha256), size);
    } finally {
      await this.client
        .send(new DeleteObjectCommand({ Bucket: this.bucket, Key: tmp }))
        .catch(() => undefined); // left for the sweep of abandoned uploads
    }
  }

  private abort(mp: NonNullable<StreamedBody['multipart']>): Promise<void> {
    return abortUpload(this.client, this.bucket, mp.key, mp.uploadId);
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

function mismatch(got: string, expected: string): DigestMismatchError {
  return new DigestMismatchError(
    `the body's sha256 is ${got} but the request announced ${expected}; nothing was stored`,
  );
}
