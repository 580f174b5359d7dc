import type { FileHandle } from 'node:fs/promises';
import type http from 'node:http';
import { Readable } from 'node:stream';
import type { ArtifactRecord } from '../core/types.js';
import type { PushOptions } from './client-types.js';
import { hashFile, readFrom } from './hash-file.js';
import { CairnApiError, readAll, type RequestBody } from './send-request.js';
import { artifactPath } from './url-path.js';

/** What a push answers: the artifact record and whether its bytes were stored already. */
export type PushedArtifact = ArtifactRecord & { deduplicated: boolean };

/** Sends one request (CairnClient.request): resolves with a response under 400, else throws. */
export type Send = (
  method: string,
  path: string,
  opts?: { body?: RequestBody; headers?: Record<string, string | number> },
) => Promise<http.IncomingMessage>;

/**
 * Pushes bytes (a Buffer, string or stream) as `session/name` with `opts`' metadata, TTL,
 * lineage, content type, idempotency key and announced sha256 (sent as Content-Digest, which
 * the server verifies). Throws CairnApiError.
 */
export async function pushBytes(
  send: Send,
  session: string,
  name: string,
  body: string | Buffer | Readable,
  opts: PushOptions = {},
): Promise<PushedArtifact> {
  const headers: Record<string, string | number> = {};
  if (opts.contentType) headers['Content-Type'] = opts.contentType;
  if (opts.sha256)
    headers['Content-Digest'] = `sha-256=:${Buffer.from(opts.sha256, 'hex').toString('base64')}:`;
  if (opts.idempotencyKey) headers['Idempotency-Key'] = opts.idempotencyKey;
  if (!(body instanceof Readable)) headers['Content-Length'] = Buffer.byteLength(body);
  if (body instanceof Readable && opts.onProgress) {
    let sent = 0;
    const progress = opts.onProgress;
    body.on('data', (chunk: Buffer) => progress((sent += chunk.length)));
  }
  const res = await send('PUT', `${artifactPath(session, name)}?${pushQuery(opts).toString()}`, {
    body,
    headers,
  });
  return JSON.parse((await readAll(res)).toString('utf8')) as PushedArtifact;
}

/**
 * Pushes a local file: hashes it first (unless `opts.sha256` is given), then pushes by
 * reference when the server already holds its bytes, else streams it with its digest. `path`
 * may be a file already open (both passes read it from its start; it stays open).
 */
export async function pushLocalFile(
  send: Send,
  session: string,
  name: string,
  path: string | FileHandle,
  opts: PushOptions = {},
): Promise<PushedArtifact> {
  const sha256 = opts.sha256 ?? (await hashFile(path, opts.onHashProgress));
  if (await blobExists(send, sha256)) {
    const res = await send(
      'PUT',
      `${artifactPath(session, name)}?${pushQuery(opts).toString()}&sha256=${sha256}`,
      {
        headers: {
          'Content-Length': 0,
          ...(opts.contentType ? { 'Content-Type': opts.contentType } : {}),
          ...(opts.idempotencyKey ? { 'Idempotency-Key': opts.idempotencyKey } : {}),
        },
      },
    );
    return JSON.parse((await readAll(res)).toString('utf8')) as PushedArtifact;
  }
  return pushBytes(send, session, name, readFrom(path), { ...opts, sha256 });
}

/** True if the server holds bytes with this sha256 (`HEAD /v1/blobs/{sha256}`). */
export async function blobExists(send: Send, sha256: string): Promise<boolean> {
  try {
    const res = await send('HEAD', `/v1/blobs/${sha256}`);
    res.resume();
    return true;
  } catch (err) {
    if (err instanceof CairnApiError && err.status === 404) return false;
    throw err;
  }
}

/** The query string of a push: metadata, TTL and lineage. */
function pushQuery(opts: PushOptions): URLSearchParams {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(opts.meta ?? {})) p.append(`meta.${k}`, v);
  if (opts.ttl) p.set('ttl', opts.ttl);
  for (const id of opts.derivedFrom ?? []) p.append('derived_from', id);
  return p;
}
