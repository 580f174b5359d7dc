import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  UploadPartCopyCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { abortUpload, type StreamedBody } from './s3-upload.js';

/** Largest object one CopyObject may copy (S3's limit). */
const COPY_MAX = 5 * 1024 ** 3;
/** Range copied per part of a multipart copy. */
const COPY_PART = 1024 ** 3;

/**
 * Makes a multipart upload's parts an object under its key; with `ifAbsent`, only if the key
 * does not exist yet (If-None-Match: *; S3 answers 412 otherwise, where it supports it).
 */
export async function completeUpload(
  client: S3Client,
  bucket: string,
  mp: NonNullable<StreamedBody['multipart']>,
  ifAbsent = false,
): Promise<void> {
  await client.send(
    new CompleteMultipartUploadCommand({
      Bucket: bucket,
      Key: mp.key,
      UploadId: mp.uploadId,
      MultipartUpload: { Parts: mp.parts },
      IfNoneMatch: ifAbsent ? '*' : undefined,
    }),
  );
}

/**
 * Copies object `from` to `to` inside `bucket` on the server (no bytes pass through here):
 * one CopyObject up to 5 GiB, a multipart copy of 1 GiB ranges beyond. The destination
 * appears whole or not at all.
 */
export async function copyObject(
  client: S3Client,
  bucket: string,
  from: string,
  to: string,
  size: number,
): Promise<void> {
  const source = `${bucket}/${from.split('/').map(encodeURIComponent).join('/')}`;
  if (size <= COPY_MAX) {
    await client.send(new CopyObjectCommand({ Bucket: bucket, Key: to, CopySource: source }));
    return;
  }
  const r = await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: to }));
  const uploadId = r.UploadId ?? '';
  try {
    const parts = [];
    for (let start = 0, n = 1; start < size; start += COPY_PART, n++) {
      const end = Math.min(size, start + COPY_PART) - 1;
      const p = await client.send(
        new UploadPartCopyCommand({
          Bucket: bucket,
          Key: to,
          UploadId: uploadId,
          PartNumber: n,
          CopySource: source,
          CopySourceRange: `bytes=${start}-${end}`,
        }),
      );
      parts.push({ PartNumber: n, ETag: p.CopyPartResult?.ETag });
    }
    await completeUpload(client, bucket, { key: to, uploadId, parts });
  } catch (err) {
    await abortUpload(client, bucket, to, uploadId);
    throw err;
  }
}
