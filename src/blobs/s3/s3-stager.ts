import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { DeleteObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { StagedBlob, StageOptions } from '../blob-store.js';
import { BlobCollectedError, DigestMismatchError, TooLargeError } from '../../lib/errors.js';
import { hashStream } from '../../lib/hashing-stream.js';
import type { MemoryBudget } from '../../lib/memory-budget.js';
import { ifAbsent, translateS3Error } from './s3-client.js';
import { completeUpload, copyObject } from './s3-copy.js';
import { abortUpload, streamToS3, type StreamedBody } from './s3-upload.js';
import type { S3Location } from './s3-url.js';
import { KeyedQueue } from './keyed-queue.js';

/** What {@link S3Stager} needs of its store. */
export interface S3StagerOptions {
  client: S3Client;
  bucket: string;
  location: S3Location;
  /** Key prefix of temporary upload objects (`PREFIX/v1/tmp/`). */
  tmpPrefix: string;
  /** The final object key of a blob. */
  keyOf(sha256: string): string;
  /** True if the store holds these bytes. */
  has(sha256: string): Promise<boolean>;
  /** Bytes per multipart part. */
  partSize: number;
  /** Parts of one upload sent at once at most. */
  lanes: number;
  /** What lanes beyond an upload's first are reserved from. */
  memory?: MemoryBudget;
}

/**
 * The write path of {@link S3BlobStore}: staging a body and committing it into place. Parts
 * stay invisible until `commit` completes the upload, so a wrong digest, an aborted body or a
 * discard leaves nothing visible, and the upload is aborted at once. Commits of the same bytes
 * run one at a time in this process; of concurrent commits exactly one reports them new
 * (across processes too for single-PUT bodies, by If-None-Match).
 */
export class S3Stager {
  /** Commits of the same bytes run one at a time (see KeyedQueue). */
  private readonly commits = new KeyedQueue();

  constructor(private readonly s: S3StagerOptions) {}

  /**
   * Streams `source` into a multipart upload (on the final key when the digest is announced,
   * else on a temporary key) while hashing; an announced digest whose bytes are stored already
   * is only hashed. Throws DigestMismatchError, TooLargeError, BlobStoreUnavailableError.
   */
  async stage(source: Readable, opts: StageOptions = {}): Promise<StagedBlob> {
    try {
      const expected = opts.expectedSha256;
      if (expected !== undefined && (await this.s.has(expected)))
        return await this.stageKnown(source, expected, opts);
      const key = expected
        ? this.s.keyOf(expected)
        : `${this.s.tmpPrefix}${Date.now()}-${randomBytes(8).toString('hex')}`;
      const body = await streamToS3(source, {
        client: this.s.client,
        bucket: this.s.bucket,
        key,
        partSize: this.s.partSize,
        lanes: this.s.lanes,
        memory: this.s.memory,
        maxSize: opts.maxSize,
      });
      if (expected !== undefined && body.sha256 !== expected) {
        if (body.multipart) await this.abort(body.multipart);
        throw mismatch(body.sha256, expected);
      }
      return this.staged(body);
    } catch (err) {
      throw translateS3Error(err, this.s.location);
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
            if (await this.s.has(sha256)) {
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
              const final = mp.key === this.s.keyOf(sha256);
              created = await ifAbsent(completeUpload(this.s.client, this.s.bucket, mp, final));
              if (!created) await this.abort(mp);
              else if (!final) await this.moveIntoPlace(mp.key, sha256, size);
            }
            done = true;
            return created;
          } catch (err) {
            throw translateS3Error(err, this.s.location);
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
      this.s.client.send(
        new PutObjectCommand({
          Bucket: this.s.bucket,
          Key: this.s.keyOf(sha256),
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
      await copyObject(this.s.client, this.s.bucket, tmp, this.s.keyOf(sha256), size);
    } finally {
      await this.s.client
        .send(new DeleteObjectCommand({ Bucket: this.s.bucket, Key: tmp }))
        .catch(() => undefined); // left for the sweep of abandoned uploads
    }
  }

  private abort(mp: NonNullable<StreamedBody['multipart']>): Promise<void> {
    return abortUpload(this.s.client, this.s.bucket, mp.key, mp.uploadId);
  }
}

function mismatch(got: string, expected: string): DigestMismatchError {
  return new DigestMismatchError(
    `the body's sha256 is ${got} but the request announced ${expected}; nothing was stored`,
  );
}
