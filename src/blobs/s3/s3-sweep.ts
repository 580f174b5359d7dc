import {
  DeleteObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  type S3Client,
  type _Object,
} from '@aws-sdk/client-s3';
import { abortUpload } from './s3-upload.js';

/**
 * Removes what uploads abandoned before `cutoff` (ms since the epoch) left under `base`:
 * multipart uploads never completed or aborted (a node killed mid-push) and temporary keys
 * under `base + 'tmp/'`. Anything newer is left alone, as it may be another node's push in
 * progress. Returns how many were removed.
 */
export async function sweepAbandoned(
  client: S3Client,
  bucket: string,
  base: string,
  cutoff: number,
): Promise<number> {
  let removed = 0;
  let keyMarker: string | undefined;
  let idMarker: string | undefined;
  for (;;) {
    const page = await client.send(
      new ListMultipartUploadsCommand({
        Bucket: bucket,
        Prefix: base,
        KeyMarker: keyMarker,
        UploadIdMarker: idMarker,
      }),
    );
    for (const u of page.Uploads ?? []) {
      if (!u.Key || !u.UploadId || (u.Initiated?.getTime() ?? 0) >= cutoff) continue;
      await abortUpload(client, bucket, u.Key, u.UploadId);
      removed++;
    }
    if (!page.IsTruncated) break;
    keyMarker = page.NextKeyMarker;
    idMarker = page.NextUploadIdMarker;
  }
  for await (const o of listObjects(client, bucket, `${base}tmp/`)) {
    if (!o.Key || (o.LastModified?.getTime() ?? 0) >= cutoff) continue;
    await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: o.Key }));
    removed++;
  }
  return removed;
}

/** Every object under `prefix`, page by page (ListObjectsV2). */
export async function* listObjects(
  client: S3Client,
  bucket: string,
  prefix: string,
): AsyncIterable<_Object> {
  let token: string | undefined;
  do {
    const page = await client.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    yield* page.Contents ?? [];
    token = page.NextContinuationToken;
  } while (token);
}
