import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CreateMultipartUploadCommand,
  UploadPartCommand,
  type CompletedPart,
  type S3Client,
} from '@aws-sdk/client-s3';
import { TooLargeError } from '../../lib/errors.js';
import type { MemoryBudget } from '../../lib/memory-budget.js';

/** Where and how {@link streamToS3} uploads. */
export interface UploadOptions {
  client: S3Client;
  bucket: string;
  /** The key a multipart upload is opened on (only if the body fills a part). */
  key: string;
  /** Bytes per part (S3: at least 5 MiB, except the last). */
  partSize: number;
  /** Parts uploading at once at most (each holds a part buffer); at least 1. */
  lanes: number;
  /** Lanes beyond the first are reserved from this budget, and go without when it is full. */
  memory?: MemoryBudget;
  /** Reject with TooLargeError once more than this many bytes arrive. */
  maxSize?: number;
}

/** A body streamed into S3, hashed, not yet visible under any key. */
export interface StreamedBody {
  sha256: string;
  size: number;
  /** The whole body when it was smaller than a part: nothing was sent (one PUT does it). */
  bytes?: Buffer;
  /** The multipart upload holding the body's parts (complete it, or abort it). */
  multipart?: { key: string; uploadId: string; parts: CompletedPart[] };
}

/**
 * Streams `source` into a multipart upload of fixed-size parts while hashing it: memory stays
 * at (lanes + 1) parts whatever the size, and the source is read only while a lane is free, so
 * a slow S3 slows the sender (backpressure through the socket). A body smaller than one part
 * is returned in memory instead (no upload opened). Parts are invisible until the upload is
 * completed. On any failure (source aborted, too large, S3 error) the upload is aborted before
 * this rejects, leaving nothing behind.
 */
export async function streamToS3(source: Readable, o: UploadOptions): Promise<StreamedBody> {
  const hash = createHash('sha256');
  const pool = new PartBuffers(o.partSize, o.lanes, o.memory);
  let size = 0;
  let part = pool.take();
  let fill = 0;
  let multipart: StreamedBody['multipart'];
  const inflight: Promise<void>[] = [];
  const send = async (buf: Buffer, length: number): Promise<void> => {
    if (multipart === undefined) {
      multipart = await openUpload(o);
      pool.widen();
    }
    const mp = multipart;
    const partNumber = mp.parts.length + 1;
    mp.parts.push({ PartNumber: partNumber });
    const upload = o.client
      .send(
        new UploadPartCommand({
          Bucket: o.bucket,
          Key: mp.key,
          UploadId: mp.uploadId,
          PartNumber: partNumber,
          Body: buf.subarray(0, length),
          ContentLength: length,
        }),
      )
      .then((r) => {
        mp.parts[partNumber - 1].ETag = r.ETag;
        pool.give(buf);
      });
    upload.catch(() => undefined); // awaited below; until then not unhandled
    inflight.push(upload);
    while (inflight.length > pool.lanes) await inflight.shift();
  };
  try {
    for await (const data of source) {
      const chunk = typeof data === 'string' ? Buffer.from(data) : (data as Buffer);
      hash.update(chunk);
      size += chunk.length;
      if (o.maxSize !== undefined && size > o.maxSize)
        throw new TooLargeError(
          `the upload exceeds the server's maximum size of ${o.maxSize} bytes`,
        );
      for (let at = 0; at < chunk.length;) {
        const n = chunk.copy(part, fill, at);
        fill += n;
        at += n;
        if (fill < part.length) continue;
        const full = part;
        await send(full, fill);
        part = pool.take();
        fill = 0;
      }
    }
    if (multipart === undefined)
      return { sha256: hash.digest('hex'), size, bytes: Buffer.from(part.subarray(0, fill)) };
    if (fill > 0) await send(part, fill);
    await Promise.all(inflight);
    return { sha256: hash.digest('hex'), size, multipart };
  } catch (err) {
    await Promise.allSettled(inflight);
    if (multipart) await abortUpload(o.client, o.bucket, multipart.key, multipart.uploadId);
    throw err;
  } finally {
    pool.release();
  }
}

async function openUpload(o: UploadOptions): Promise<NonNullable<StreamedBody['multipart']>> {
  const r = await o.client.send(new CreateMultipartUploadCommand({ Bucket: o.bucket, Key: o.key }));
  if (!r.UploadId) throw new Error('S3 answered CreateMultipartUpload without an UploadId');
  return { key: o.key, uploadId: r.UploadId, parts: [] };
}

/** Aborts a multipart upload (its parts go); errors are swallowed: the sweep retries later. */
export async function abortUpload(
  client: S3Client,
  bucket: string,
  key: string,
  uploadId: string,
): Promise<void> {
  await client
    .send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }))
    .catch(() => undefined);
}

/**
 * Part buffers of one upload, reused as parts finish: one filling plus one per lane. The first
 * lane is the upload's own; each further one is reserved from the memory budget if it allows.
 */
class PartBuffers {
  private readonly free: Buffer[] = [];
  private reserved = 0;
  /** Parts that may upload at once while the next one fills. */
  lanes = 1;

  constructor(
    private readonly size: number,
    private readonly maxLanes: number,
    private readonly memory?: MemoryBudget,
  ) {}

  take(): Buffer {
    return this.free.pop() ?? Buffer.allocUnsafeSlow(this.size);
  }

  give(buf: Buffer): void {
    this.free.push(buf);
  }

  /** Takes the lanes beyond the first that the budget allows (once the body fills a part). */
  widen(): void {
    while (this.lanes < this.maxLanes) {
      if (this.memory && !this.memory.tryReserve(this.size)) return;
      if (this.memory) this.reserved += this.size;
      this.lanes++;
    }
  }

  release(): void {
    if (this.memory && this.reserved > 0) this.memory.release(this.reserved);
    this.reserved = 0;
    this.free.length = 0;
  }
}
