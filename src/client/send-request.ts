import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { connectionErrorMessage } from './connection-error.js';

/** An error answer from a Cairn server (or a transport failure, code `connection_failed`). */
export class CairnApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'CairnApiError';
  }
}

/** What a request may send: nothing, a whole string or Buffer, or a stream piped as it arrives. */
export type RequestBody = string | Buffer | Readable | undefined;

/** Where {@link sendRequest} sends a request, and the bearer token it sends, if any. */
export interface RequestTarget {
  /** Base URL without a trailing slash; the request path is appended to it. */
  url: string;
  token?: string;
  /** The message of a 401 answer to a request sent without a token (see ClientOptions). */
  noTokenHint?: string;
}

/**
 * Sends one HTTP(S) request to `target.url + path`, with `Authorization: Bearer <token>` when the
 * target has a token. Resolves with the response, body unread, when its status is below 400.
 * Otherwise rejects with a {@link CairnApiError} built from the server's JSON error envelope
 * (`{ error: { code, message } }`), or `http_<status>` / `HTTP <status>` when the body is not one;
 * a transport failure rejects with status 0 and code `connection_failed` (one line saying what to
 * do, see connectionErrorMessage). A 401 to a request without a token carries `noTokenHint`. A stream body that
 * errors destroys the request.
 */
export async function sendRequest(
  target: RequestTarget,
  method: string,
  path: string,
  opts: { body?: RequestBody; headers?: Record<string, string | number> } = {},
): Promise<IncomingMessage> {
  const url = new URL(target.url + path);
  const headers: Record<string, string | number> = { ...opts.headers };
  if (target.token) headers.Authorization = `Bearer ${target.token}`;
  const body = opts.body;
  // Caught until the request exists (below), so an early stream error is not an uncaught one.
  let early: Error | undefined;
  const keep = (err: Error) => (early ??= err);
  if (body instanceof Readable) body.on('error', keep);
  const mod = await transport(url.protocol);
  return new Promise((resolve, reject) => {
    const req = mod.request(url, { method, headers }, (res) => {
      if ((res.statusCode ?? 500) < 400) return resolve(res);
      void readAll(res).then((buf) => {
        const err = toError(res.statusCode ?? 500, buf);
        reject(
          err.status === 401 && !target.token && target.noTokenHint
            ? new CairnApiError(401, err.code, target.noTokenHint)
            : err,
        );
      }, reject);
    });
    req.on('error', (err) =>
      reject(new CairnApiError(0, 'connection_failed', connectionErrorMessage(target.url, err))),
    );
    if (body instanceof Readable) {
      body.off('error', keep);
      if (early) return req.destroy(early);
      body.on('error', (err) => req.destroy(err));
      body.pipe(req);
    } else req.end(body);
  });
}

/**
 * `node:http` or `node:https`, imported on first send, and only the one the URL needs: a
 * plain-HTTP command never loads https and tls, and on Node 22 (the single binary) loading
 * https is what starts reading the `NODE_EXTRA_CA_CERTS` file, on a thread of its own.
 */
function transport(protocol: string): Promise<Pick<typeof import('node:http'), 'request'>> {
  return protocol === 'https:' ? import('node:https') : import('node:http');
}

/** Reads a whole (small) response body. */
export async function readAll(res: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

function toError(status: number, buf: Buffer): CairnApiError {
  try {
    const e = (JSON.parse(buf.toString('utf8')) as { error: { code: string; message: string } })
      .error;
    return new CairnApiError(status, e.code, e.message);
  } catch {
    // No envelope (a HEAD answer, or something in front of the server): say what the status means.
    const what = STATUS_TEXT[status];
    return what
      ? new CairnApiError(status, what[0], `${what[1]} (HTTP ${status})`)
      : new CairnApiError(status, `http_${status}`, `HTTP ${status}`);
  }
}

const STATUS_TEXT: Record<number, [string, string]> = {
  400: ['invalid_request', 'the server refused the request'],
  401: ['unauthorized', 'the token is missing or not valid'],
  403: ['forbidden', 'the token may not do this'],
  404: ['not_found', 'not found'],
  409: ['conflict', 'conflict'],
  410: ['gone', 'gone'],
};
