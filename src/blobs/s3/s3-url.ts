import { InvalidInputError } from '../../lib/errors.js';

/** Where an S3 blob store lives, as `--blobs s3://BUCKET[/PREFIX]?…` names it. */
export interface S3Location {
  bucket: string;
  /** Key prefix without leading or trailing slash; '' for the bucket's root. */
  prefix: string;
  /** Endpoint URL (`https://s3.internal`); undefined: AWS's own for the region. */
  endpoint?: string;
  /** Region; undefined: the SDK's chain (AWS_REGION, config files), else us-east-1. */
  region?: string;
  /** Path-style addressing (`endpoint/bucket/key`), which most S3-compatible servers need. */
  forcePathStyle: boolean;
}

const PARAMS = ['endpoint', 'region', 'force_path_style'];
const BUCKET_RE = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/**
 * Parses `s3://BUCKET[/PREFIX]?endpoint=URL&region=R&force_path_style=true`. Throws
 * InvalidInputError(`invalid_backend_url`) saying what is wrong: a bucket name S3 refuses, an
 * unknown parameter, an endpoint that is not an http(s) URL, a force_path_style not true/false.
 */
export function parseS3Url(url: string): S3Location {
  const bad = (why: string) =>
    new InvalidInputError(
      'invalid_backend_url',
      `--blobs '${url.slice(0, 200)}': ${why}; the form is s3://BUCKET[/PREFIX]?endpoint=URL&region=R&force_path_style=true`,
    );
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw bad('not a URL');
  }
  if (u.protocol !== 's3:' || !url.toLowerCase().startsWith('s3://')) throw bad('no bucket');
  const bucket = u.hostname;
  if (!BUCKET_RE.test(bucket) || u.port || u.username || u.password)
    throw bad(`'${bucket}' is not a bucket name (3 to 63 of a-z 0-9 . -)`);
  const prefix = decodeURIComponent(u.pathname).replace(/^\/+|\/+$/g, '');
  for (const key of u.searchParams.keys())
    if (!PARAMS.includes(key))
      throw bad(`unknown parameter '${key}' (known: ${PARAMS.join(', ')})`);
  const endpoint = u.searchParams.get('endpoint') ?? undefined;
  if (endpoint !== undefined && !/^https?:\/\/[^/]+/.test(endpoint))
    throw bad(`endpoint '${endpoint}' is not an http:// or https:// URL`);
  const style = u.searchParams.get('force_path_style') ?? 'false';
  if (style !== 'true' && style !== 'false') throw bad('force_path_style is true or false');
  return {
    bucket,
    prefix,
    endpoint,
    region: u.searchParams.get('region') || undefined,
    forcePathStyle: style === 'true',
  };
}

/** The URL's text without its query (no secrets are in it, but it is shorter to show). */
export function describeLocation(loc: S3Location): string {
  const where = loc.endpoint ? ` at ${loc.endpoint}` : '';
  return `s3://${loc.bucket}${loc.prefix ? `/${loc.prefix}` : ''}${where}`;
}
