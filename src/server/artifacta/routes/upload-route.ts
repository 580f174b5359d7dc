import { createHash } from 'node:crypto';
import { Readable, Transform } from 'node:stream';
import type { PushInput } from '../../../core/artifact-service.js';
import { NO_SESSION } from '../../../core/artifacta-service.js';
import { checkContentType } from '../../../core/media-type.js';
import { InvalidInputError } from '../../../lib/errors.js';
import { readJson } from '../../request.js';
import type { Ctx } from '../../router.js';
import { artifactaRecord, checkFilename, str, tooLarge, ttlOf } from '../artifacta-http.js';
import { cairnMeta, type ArtifactaRecord } from '../artifacta-record.js';
import { multipartBoundary, readMultipart } from '../multipart.js';

/** Largest decoded `content` of a JSON upload. */
export const JSON_UPLOAD_MAX = 10 * 1024 * 1024;
/** Largest file of a multipart upload. */
export const MULTIPART_UPLOAD_MAX = 500 * 1024 * 1024;

const bad = (message: string) => new InvalidInputError('invalid_request', message);

/** The fields of an upload other than its bytes, as a Cairn push. */
export function pushInput(c: Ctx, f: Record<string, unknown>): PushInput {
  const filename = checkFilename(str(f, 'filename', true) as string);
  const session = str(f, 'session_id') ?? NO_SESSION;
  // The token's session glob applies as on Cairn's own push route.
  c.authorize('write', session);
  const ttl = ttlOf(c.app, f.ttl);
  return {
    session,
    name: filename,
    contentType: contentTypeOf(str(f, 'content_type')),
    meta: cairnMeta(f.metadata, f.agent_id),
    ttlMs: ttl ?? undefined,
  };
}

/** A `content_type` field, checked up front (an upload URL's PUT would refuse it too late). */
function contentTypeOf(type: string | undefined): string | undefined {
  return type ? checkContentType(type) : undefined;
}

/**
 * `POST /v1/artifacts`: a JSON body with base64 `content`, or multipart/form-data streamed
 * into the store (fields first, `metadata` a JSON string, then `file`). With an
 * `Idempotency-Key`, a retry within 24 h answers the first artifact and stores nothing.
 */
export async function upload(c: Ctx): Promise<void> {
  const key = c.req.headers['idempotency-key'];
  if (key !== undefined && (typeof key !== 'string' || key.length < 1 || key.length > 256))
    throw bad('Idempotency-Key must be 1-256 characters');
  const boundary = multipartBoundary(c.req.headers['content-type']);
  const run = async () => {
    const rec = boundary ? await multipartUpload(c, boundary) : await jsonUpload(c);
    return { status: 201, body: JSON.stringify(rec) };
  };
  const answer = key
    ? await c.app.idempotency.run(
        `${c.principal?.tokenId}:artifacta:${createHash('sha256').update(key).digest('hex')}`,
        { request: 'POST artifacta /v1/artifacts' },
        run,
      )
    : await run();
  if (!c.req.complete) c.req.resume();
  c.res.writeHead(answer.status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(answer.body),
  });
  c.res.end(answer.body);
}

async function jsonUpload(c: Ctx): Promise<ArtifactaRecord> {
  // base64 of 10 MB plus the other fields.
  const b = await readJson(c.req, Math.ceil((JSON_UPLOAD_MAX * 4) / 3) + 64 * 1024);
  const input = pushInput(c, b);
  const content = str(b, 'content', true) as string;
  const encoding = b.content_encoding ?? 'base64';
  if (encoding !== 'base64') throw bad("content_encoding must be 'base64'");
  const clean = content.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(clean) || clean.length % 4 === 1)
    throw bad('content must be base64');
  const bytes = Buffer.from(clean, 'base64');
  if (bytes.length > JSON_UPLOAD_MAX) throw tooLarge(JSON_UPLOAD_MAX);
  const rec = await c.app.artifacts.push(
    { ...input, announcedSize: bytes.length },
    Readable.from([bytes]),
  );
  return artifactaRecord(c.app, rec);
}

async function multipartUpload(c: Ctx, boundary: string): Promise<ArtifactaRecord> {
  const fields: Record<string, unknown> = {};
  let pushed: Promise<ArtifactaRecord> | null = null;
  await readMultipart(c.req, boundary, 'file', {
    field: (name, value) => {
      if (name === 'metadata') {
        try {
          fields.metadata = JSON.parse(value);
        } catch {
          throw bad('metadata must be a JSON object, sent as a string field');
        }
      } else fields[name] = value;
    },
    file: (head, body) => {
      if (pushed) throw bad('send one file part');
      const input = pushInput(c, {
        ...fields,
        filename: fields.filename ?? head.filename ?? undefined,
      });
      // The part's own Content-Type is not authoritative: the field, else the name decides.
      pushed = c.app.artifacts
        .push(input, limit(body, MULTIPART_UPLOAD_MAX))
        .then((rec) => artifactaRecord(c.app, rec));
      return pushed.then(() => undefined);
    },
  });
  if (!pushed) throw bad("Missing required field 'file'");
  return pushed;
}

/** Passes `source` through, failing with 413 `file_too_large` past `max` bytes. */
function limit(source: Readable, max: number): Readable {
  let n = 0;
  const out = new Transform({
    transform(chunk: Buffer, _enc, done) {
      n += chunk.length;
      done(n > max ? tooLarge(max) : null, chunk);
    },
  });
  source.on('error', (err) => out.destroy(err));
  return source.pipe(out);
}
