import { createHash } from 'node:crypto';
import type { IdempotentAnswer } from '../../catalog/catalog.js';
import type { PushInput } from '../../core/artifact-service.js';
import { validateContentType } from '../../core/media-type.js';
import { MAX_CONTENT_TYPE, validateSha256 } from '../../core/validate.js';
import { InvalidInputError, TooLargeError } from '../../lib/errors.js';
import { INLINE_BLOB_MAX } from '../../app.js';
import { UPLOAD_BUFFER_BYTES } from '../../lib/memory-budget.js';
import { hashBody } from '../request.js';
import { admitToMemory } from '../upload-admission.js';
import type { Ctx } from '../router.js';

/**
 * `PUT /v1/sessions/{sid}/artifacts/{name…}`: streams the body into the store (or, with
 * `?sha256=` and an empty body, records bytes already stored) and answers 201 with the record.
 * With an `Idempotency-Key`, a retry of the same push replays the first answer (see
 * {@link idempotentPush}).
 */
export async function push(c: Ctx): Promise<void> {
  const q = c.query;
  const input: PushInput = {
    session: c.params.sid,
    name: c.params.name,
    meta: metaOf(c.url.searchParams),
    contentType: contentTypeOf(c.req.headers['content-type']),
    ttlMs: q.duration('ttl'),
    derivedFrom: q.all('derived_from'),
    expectedSha256: parseContentDigest(c.req.headers['content-digest']),
    // Bytes and parents only other sessions hold are, to a token that cannot read them, absent.
    readGlob: c.reads.glob ?? undefined,
  };
  const declared = Number(c.req.headers['content-length'] ?? NaN);
  if (Number.isSafeInteger(declared) && declared >= 0) input.announcedSize = declared;
  if (declared > c.app.config.maxSize)
    throw new TooLargeError(
      `the upload exceeds the server's maximum size of ${c.app.config.maxSize} bytes`,
    );
  const byRef = q.str('sha256');
  // Checked before any replay, so a request answers the same with or without a key.
  if (byRef !== undefined) checkByReference(c, byRef);
  else admitToMemory(c.app.uploadMemory, c.res, uploadFootprint(declared), 'upload');
  const run = async () => {
    const rec =
      byRef !== undefined
        ? await c.app.artifacts.pushByReference(input, byRef)
        : await c.app.artifacts.push(input, c.req);
    return { status: 201, body: JSON.stringify(rec) };
  };
  const key = c.req.headers['idempotency-key'];
  const answer =
    typeof key === 'string' && key.length > 0
      ? await idempotentPush(c, key, input, byRef, run)
      : await run();
  if (!c.req.complete) c.req.resume();
  c.res.writeHead(answer.status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(answer.body),
  });
  c.res.end(answer.body);
}

/**
 * Most memory an upload holds while it stalls: a body the size it announces when that is
 * kept inline, else the inline part and one buffer of the blob store (buffers beyond it are
 * reserved by the store while it uses them).
 */
function uploadFootprint(declared: number): number {
  return Number.isSafeInteger(declared) && declared <= INLINE_BLOB_MAX
    ? declared
    : INLINE_BLOB_MAX + UPLOAD_BUFFER_BYTES;
}

/** `meta.KEY=VALUE` parameters as own properties (`__proto__` reaches validation); once each. */
export function metaOf(params: URLSearchParams): Record<string, string> {
  const pairs: [string, string][] = [];
  for (const [k, v] of params) if (k.startsWith('meta.')) pairs.push([k.slice(5), v]);
  const meta: Record<string, string> = Object.fromEntries(pairs);
  if (Object.keys(meta).length < pairs.length)
    throw new InvalidInputError(
      'invalid_meta',
      'a meta.KEY parameter is given twice; give each key once',
    );
  return meta;
}

/**
 * The pushed Content-Type: curl's default for --data is dropped; at most 255 characters, and
 * a media type (400 `invalid_content_type` saying what is wrong otherwise).
 */
function contentTypeOf(header: string | undefined): string | undefined {
  // Never what an agent means for a file.
  if (header === 'application/x-www-form-urlencoded') return undefined;
  if (header !== undefined && header.length > MAX_CONTENT_TYPE)
    throw new InvalidInputError(
      'invalid_content_type',
      `Content-Type is limited to ${MAX_CONTENT_TYPE} characters`,
    );
  return header === undefined ? undefined : validateContentType(header);
}

/** A push by reference names a sha256 and sends no body. */
function checkByReference(c: Ctx, sha256: string): void {
  validateSha256(sha256);
  const len = c.req.headers['content-length'];
  if ((len !== undefined && len !== '0') || c.req.headers['transfer-encoding']) {
    throw new InvalidInputError(
      'invalid_request',
      'a push by reference (?sha256=) must have an empty body',
    );
  }
}

/**
 * Runs a push under its Idempotency-Key (per token; the whole key counts, hashed to a fixed
 * length). A replay must be the same push: the same target, parameters and Content-Type,
 * except `sha256` (a client retrying a push whose bytes the first attempt stored sends them
 * by reference then), for the same artifact and the same bytes (hashed as they arrive again,
 * or the reference). Keys the previous release stored (first 200 characters, no request) are
 * still found; for them the artifact and the bytes decide.
 */
function idempotentPush(
  c: Ctx,
  key: string,
  input: PushInput,
  byRef: string | undefined,
  run: () => Promise<{ status: number; body: string }>,
) {
  const params = new URLSearchParams(c.url.searchParams);
  params.delete('sha256');
  const [path] = (c.req.url ?? '').split('?', 1);
  const type = input.contentType === undefined ? '' : ` (Content-Type: ${input.contentType})`;
  const token = c.principal?.tokenId;
  return c.app.idempotency.run(
    `${token}:${createHash('sha256').update(key).digest('hex')}`,
    {
      request: `PUT ${path}?${params.toString()}${type}`,
      differs: async (prior: IdempotentAnswer) => {
        const rec = JSON.parse(prior.body) as {
          session?: unknown;
          name?: unknown;
          sha256?: unknown;
        };
        if (rec.session !== input.session || rec.name !== input.name)
          return `for ${String(rec.session)}/${String(rec.name)}`;
        const sha = byRef ?? (await hashBody(c.req, c.app.config.maxSize));
        return rec.sha256 === sha ? null : 'with other bytes';
      },
      legacyKey: `${token}:${key.slice(0, 200)}`,
    },
    run,
  );
}

/** Parses `Content-Digest: sha-256=:<base64>:` (RFC 9530) to hex; other algorithms are ignored. */
export function parseContentDigest(header: string | string[] | undefined): string | undefined {
  if (header === undefined) return undefined;
  const text = Array.isArray(header) ? header.join(',') : header;
  const m = /(?:^|,)\s*sha-256=:([A-Za-z0-9+/=]*):\s*(?:,|$)/.exec(text);
  if (!m) {
    if (/sha-256/i.test(text))
      throw new InvalidInputError(
        'invalid_digest',
        'Content-Digest must look like sha-256=:<base64 of the 32-byte digest>:',
      );
    return undefined;
  }
  const bytes = Buffer.from(m[1], 'base64');
  if (bytes.length !== 32)
    throw new InvalidInputError(
      'invalid_digest',
      'Content-Digest sha-256 must be the base64 of 32 bytes',
    );
  return bytes.toString('hex');
}
