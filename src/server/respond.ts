import type { IncomingMessage, ServerResponse } from 'node:http';
import { BlobStoreUnavailableError, BusyError, CairnError } from '../lib/errors.js';

/** Sends a JSON body with the given status. */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
    ...headers,
  });
  res.end(text);
}

/** The public error envelope for any error; unknown errors become a generic 500. */
export function errorEnvelope(err: unknown): {
  status: number;
  body: { error: { code: string; message: string; details?: unknown } };
} {
  if (err instanceof CairnError) {
    return {
      status: err.status,
      body: {
        error: {
          code: err.code,
          message: err.message,
          ...(err.details ? { details: err.details } : {}),
        },
      },
    };
  }
  return {
    status: 500,
    body: {
      error: { code: 'internal', message: 'internal error; the server log has the details' },
    },
  };
}

/** Bytes of an unread request body the server reads past after an early error answer. */
const DRAIN_LIMIT = 4 * 1024 * 1024;

/**
 * The one HTTP translation point for errors: writes the JSON envelope (if headers are not sent
 * yet) and makes sure an unread request body does not keep the connection busy.
 */
export function sendError(
  req: IncomingMessage,
  res: ServerResponse,
  err: unknown,
  log: (e: unknown) => void,
): void {
  const { status, body } = errorEnvelope(err);
  const headers: Record<string, string> = {};
  if (err instanceof BusyError) headers['Retry-After'] = String(err.retryAfterSeconds);
  if (status === 401) headers['WWW-Authenticate'] = 'Bearer realm="cairn"';
  const allowed = err instanceof CairnError ? err.details?.allowed : undefined;
  if (status === 405 && Array.isArray(allowed)) headers.Allow = allowed.join(', ');
  // A 503 at a limit or a 501 for what a client sent is the server working as meant, not a
  // fault to log; a blob store out of reach is one the operator must hear of.
  const fault =
    status >= 500 &&
    status !== 501 &&
    (!(err instanceof BusyError) || err instanceof BlobStoreUnavailableError);
  sendErrorAnswer(req, res, { status, body, headers }, fault ? () => log(err) : undefined);
}

/**
 * The part of an error answer every listener shares (Cairn's and Artifacta's envelopes differ,
 * this does not): nothing is answered or logged for a client that went away mid-request;
 * `logFault` (if any) is called; an answer already under way is cut; an unread request body is
 * read and dropped if small (at most 4 MiB announced), else the connection is closed after the
 * answer; then `body` is sent as JSON with `headers`. Never throws.
 */
export function sendErrorAnswer(
  req: IncomingMessage,
  res: ServerResponse,
  answer: { status: number; body: unknown; headers: Record<string, string> },
  logFault: (() => void) | undefined,
): void {
  // A client that went away mid-request is not a server fault: nothing to log or answer.
  if (req.destroyed && !req.complete) {
    res.destroy();
    return;
  }
  logFault?.();
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const headers = { ...answer.headers };
  if (!req.complete) {
    req.resume();
    // A small remainder is read and dropped so a client still sending gets this answer instead
    // of a reset; a large or unknown one is cut off by closing the connection.
    if (!(Number(req.headers['content-length']) <= DRAIN_LIMIT)) headers.Connection = 'close';
  }
  sendJson(res, answer.status, answer.body, headers);
}
