import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import {
  CairnError,
  ConflictError,
  ForbiddenError,
  InvalidInputError,
} from '../../../lib/errors.js';
import { readJson } from '../../request.js';
import type { Ctx, Route } from '../../router.js';
import { artifactaRecord, origin, reply, tooLarge } from '../artifacta-http.js';
import { pushInput } from './upload-route.js';

const MAX_SIZE = 5_368_709_120;
const UPLOAD_URL_SECONDS = 3600;
/** The header that carries an upload URL's one-time credential. */
export const UPLOAD_TOKEN_HEADER = 'X-Upload-Token';
/** Uploads being received by this process (a second PUT meanwhile is refused). */
const receiving = new Set<string>();

const hash = (s: string) => createHash('sha256').update(s).digest();

/** `POST /v1/artifacts/upload-url`: a pending upload and the URL its bytes go to. */
async function uploadUrl(c: Ctx): Promise<void> {
  const b = await readJson(c.req, c.app.config.maxJsonBytes);
  const input = pushInput(c, b);
  const size = b.size_bytes;
  if (typeof size !== 'number' || !Number.isInteger(size) || size < 1 || size > MAX_SIZE)
    throw new InvalidInputError(
      'invalid_request',
      `size_bytes must be a whole number from 1 to ${MAX_SIZE}`,
    );
  if (size > c.app.config.maxSize) throw tooLarge(c.app.config.maxSize);
  const secret = randomBytes(32).toString('base64url');
  const expiresAt = c.app.clock() + UPLOAD_URL_SECONDS * 1000;
  const contentType = input.contentType ?? 'application/octet-stream';
  const id = await c.app.artifacta.addPending({
    filename: input.name,
    contentType: input.contentType ?? '',
    size,
    session: input.session,
    meta: input.meta ?? {},
    ttlMs: input.ttlMs,
    credentialHash: hash(secret).toString('hex'),
    expiresAt,
  });
  reply(c, 201, {
    artifact_id: id,
    status: 'pending',
    upload_url: `${origin(c)}/v1/uploads/${id}`,
    upload_expires_at: new Date(expiresAt).toISOString(),
    upload_method: 'PUT',
    upload_headers: { 'Content-Type': contentType, [UPLOAD_TOKEN_HEADER]: secret },
  });
}

/** `PUT /v1/uploads/:id`: the bytes of a pending upload; its credential is the header. */
async function receive(c: Ctx): Promise<void> {
  const id = c.params.id;
  const p = await c.app.artifacta.pending(id);
  const given = c.req.headers[UPLOAD_TOKEN_HEADER.toLowerCase()];
  if (
    !p ||
    typeof given !== 'string' ||
    !timingSafeEqual(hash(given), Buffer.from(p.upload.credentialHash, 'hex'))
  )
    // As a presigned URL answers: the URL is public, the header its credential.
    throw new ForbiddenError(`send the ${UPLOAD_TOKEN_HEADER} header from upload_headers`);
  if (p.upload.expiresAt <= c.app.clock())
    throw new CairnError('upload_expired', 410, 'this upload URL has expired; request a new one');
  if (p.cairnId !== null || receiving.has(id))
    throw new ConflictError(
      'upload_already_received',
      'the bytes of this upload were already sent',
    );
  if (Number(c.req.headers['content-length']) !== p.upload.size)
    throw new InvalidInputError(
      'invalid_request',
      `send exactly size_bytes (${p.upload.size}) bytes with a Content-Length`,
    );
  receiving.add(id);
  try {
    const u = p.upload;
    const rec = await c.app.artifacts.push(
      {
        session: u.session,
        name: u.filename,
        contentType: u.contentType || undefined,
        meta: u.meta,
        ttlMs: u.ttlMs,
        announcedSize: u.size,
      },
      c.req,
    );
    await c.app.artifacta.attach(id, rec);
  } finally {
    receiving.delete(id);
  }
  reply(c, 200, { artifact_id: id, status: 'uploaded' });
}

/** `POST /v1/artifacts/:id/complete`: the artifact record once its bytes arrived. */
async function complete(c: Ctx): Promise<void> {
  const p = await c.app.artifacta.pending(c.params.id);
  if (p) {
    c.authorize('write', p.upload.session);
    if (p.cairnId === null)
      throw new InvalidInputError(
        'upload_not_found',
        'no bytes arrived yet: PUT them to upload_url first',
      );
  }
  // Completing again (or an artifact uploaded in one step) answers its record.
  const rec = await c.app.artifacta.resolve(c.params.id);
  if (!p) c.authorize('write', rec.session);
  reply(c, 200, await artifactaRecord(c.app, rec));
}

/** The two-phase upload: an upload URL on this listener, then `complete`. */
export function bindArtifactaUploadUrlRoutes(): Route[] {
  return [
    {
      method: 'POST',
      path: '/v1/artifacts/upload-url',
      access: 'write',
      summary: 'Start a two-phase upload: {artifact_id, upload_url, upload_headers, …}',
      handler: uploadUrl,
    },
    {
      method: 'PUT',
      path: '/v1/uploads/:id',
      access: 'public',
      summary: 'The bytes of a two-phase upload (credential: the X-Upload-Token header)',
      handler: receive,
    },
    {
      method: 'POST',
      path: '/v1/artifacts/:id/complete',
      access: 'write',
      summary: 'Finish a two-phase upload; answers the artifact record (idempotent)',
      handler: complete,
    },
  ];
}
