import { HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import {
  BlobStoreUnavailableError,
  CairnError,
  InvalidInputError,
  NotFoundError,
} from '../../lib/errors.js';
import { describeLocation, type S3Location } from './s3-url.js';

/** Network errors that mean the endpoint cannot be reached right now. */
const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNABORTED',
  'TimeoutError',
  'RequestTimeout',
]);

/**
 * A request to S3 that moves no byte for this long fails (the socket's idle timeout, on
 * uploads and on download bodies alike). Three attempts of it stay under the server's
 * 60 s body-idle timeout, so a push stuck on an S3 that stopped answering (a full OSD)
 * gets 503 blob_store_unavailable rather than 408 "the body stalled".
 */
const IDLE_MS = 15_000;

interface SdkError {
  name?: string;
  code?: string;
  $metadata?: { httpStatusCode?: number };
}

/**
 * An S3 client for `loc`: credentials from the SDK's chain (AWS_ACCESS_KEY_ID and
 * AWS_SECRET_ACCESS_KEY first); checksums only where S3 requires them (radosgw 16 refuses the
 * SDK's default trailing checksums with 411; the store verifies sha256 itself); bounded
 * connection and idle timeouts (`idleMs`, see IDLE_MS), so an endpoint that stops answering
 * fails requests instead of hanging them.
 */
export function makeS3Client(loc: S3Location, idleMs = IDLE_MS): S3Client {
  // The SDK warns on Node 20 that its releases after January 2027 will need Node 22: nothing a
  // cairn user can act on (the lockfile pins the SDK; the single binary carries Node 22), and a
  // multi-line warning would break `cairn serve`'s one-line start-up errors.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  return new S3Client({
    endpoint: loc.endpoint,
    region: loc.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
    forcePathStyle: loc.forcePathStyle,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 3,
    requestHandler: {
      connectionTimeout: 5_000,
      socketTimeout: idleMs,
      httpAgent: { keepAlive: true, maxSockets: 256 },
      httpsAgent: { keepAlive: true, maxSockets: 256 },
    },
  });
}

/** The HTTP status S3 answered `err` with, if it answered. */
export function statusOf(err: unknown): number | undefined {
  return (err as SdkError)?.$metadata?.httpStatusCode;
}

/** True if `err` says the key (or bucket) does not exist. */
export function isNotFound(err: unknown): boolean {
  const e = err as SdkError;
  return e?.name === 'NotFound' || e?.name === 'NoSuchKey' || statusOf(err) === 404;
}

/** True if `err` means S3 could not be reached or failed on its side (worth a retry). */
export function isUnavailable(err: unknown): boolean {
  const e = err as SdkError;
  const status = statusOf(err);
  if (status !== undefined && status >= 500) return true;
  return UNREACHABLE.has(e?.code ?? '') || UNREACHABLE.has(e?.name ?? '');
}

/**
 * The Cairn error for an S3 failure: unreachable or failing on its side →
 * BlobStoreUnavailableError (503 with Retry-After); a CairnError passes through; anything else
 * is returned as it is (a fault, logged).
 */
export function translateS3Error(err: unknown, loc: S3Location): unknown {
  if (err instanceof CairnError) return err;
  if (isUnavailable(err))
    return new BlobStoreUnavailableError(
      `the blob store ${describeLocation(loc)} cannot be reached right now; nothing was stored, retry in a moment`,
      err,
    );
  return err;
}

/** NotFoundError for a blob S3 does not hold. */
export function blobNotFound(sha256: string): NotFoundError {
  return new NotFoundError(`blob ${sha256} is not stored`, 'blob_not_found');
}

/**
 * Checks at start that the bucket exists and the credentials are good, throwing one line that
 * says which is wrong: no credentials, credentials refused, no such bucket, endpoint
 * unreachable.
 */
export async function checkBucket(client: S3Client, loc: S3Location): Promise<void> {
  const where = describeLocation(loc);
  try {
    await client.send(new HeadBucketCommand({ Bucket: loc.bucket }));
  } catch (err) {
    const e = err as SdkError & { message?: string };
    if (e?.name === 'CredentialsProviderError')
      throw new InvalidInputError(
        's3_no_credentials',
        `no S3 credentials for ${where}: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE)`,
      );
    const status = statusOf(err);
    if (status === 403 || status === 401)
      throw new InvalidInputError(
        's3_credentials_refused',
        `S3 refused the credentials for ${where} (HTTP ${status}): check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, and that they may use bucket ${loc.bucket}`,
      );
    if (isNotFound(err))
      throw new InvalidInputError(
        's3_no_bucket',
        `bucket ${loc.bucket} does not exist at ${loc.endpoint ?? 'AWS'}: create it first (e.g. aws s3 mb s3://${loc.bucket})`,
      );
    if (isUnavailable(err))
      throw new BlobStoreUnavailableError(
        `cannot reach S3 at ${loc.endpoint ?? `AWS (${loc.bucket})`} (${e?.code ?? e?.name ?? `HTTP ${status}`}): check endpoint= in --blobs and that the server is up`,
        err,
      );
    throw err;
  }
}

/**
 * Runs a write made conditional on the key being absent (If-None-Match: *): true if it wrote,
 * false if S3 refused it because the key exists (412: a concurrent commit of the same bytes
 * won), so exactly one of them reports the bytes as new.
 */
export async function ifAbsent(write: Promise<unknown>): Promise<boolean> {
  try {
    await write;
    return true;
  } catch (err) {
    if (statusOf(err) === 412) return false;
    throw err;
  }
}
