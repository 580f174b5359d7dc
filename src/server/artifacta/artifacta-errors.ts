import type { IncomingMessage, ServerResponse } from 'node:http';
import { CairnError } from '../../lib/errors.js';
import { sendErrorAnswer } from '../respond.js';

/** The codes Artifacta's clients know; any other Cairn 400 is sent as `invalid_request`. */
const OWN = new Set([
  'invalid_request',
  'ttl_exceeds_plan_limit',
  'upload_not_found',
  'unauthorized',
  'quota_exceeded',
  'artifact_not_found',
  'session_not_found',
  'session_sealed',
  'artifact_expired',
  'artifact_already_deleted',
  'file_too_large',
  'rate_limited',
]);

/** Cairn codes with an Artifacta equivalent. */
const RENAMED: Record<string, string> = {
  payload_too_large: 'file_too_large',
  not_found: 'artifact_not_found',
};

/** Cairn statuses that become another status for Artifacta's clients. */
const RESTATUS: Record<string, [string, number]> = {
  // A self-hosted server's storage limit is its disk: a quota, not a fault to retry.
  insufficient_storage: ['quota_exceeded', 403],
};

/** Artifacta's envelope: `{error: {code, message, status, retry_after?}}`. */
export interface ArtifactaErrorBody {
  error: { code: string; message: string; status: number; retry_after?: number };
}

/**
 * An error as Artifacta's API answers it: its own codes pass through, Cairn's equivalents are
 * renamed, other 400s become `invalid_request` (the message still says what was wrong), and
 * a full disk is 403 `quota_exceeded`, and
 * statuses without an Artifacta code (403 scope, 405, 422) keep Cairn's code. Unknown
 * errors are a generic 500.
 */
export function artifactaError(err: unknown): { status: number; body: ArtifactaErrorBody } {
  if (!(err instanceof CairnError)) {
    return {
      status: 500,
      body: {
        error: {
          code: 'internal',
          message: 'internal error; the server log has the details',
          status: 500,
        },
      },
    };
  }
  const [code, status] = RESTATUS[err.code] ?? [
    OWN.has(err.code)
      ? err.code
      : (RENAMED[err.code] ?? (err.status === 400 ? 'invalid_request' : err.code)),
    err.status,
  ];
  const retry = err.details?.retry_after;
  return {
    status,
    body: {
      error: {
        code,
        message: err.message,
        status,
        ...(typeof retry === 'number' ? { retry_after: retry } : {}),
      },
    },
  };
}

/** Writes the envelope (a Retry-After header on 429); drains or cuts an unread body. */
export function sendArtifactaError(
  req: IncomingMessage,
  res: ServerResponse,
  err: unknown,
  log: (e: unknown) => void,
): void {
  const { status, body } = artifactaError(err);
  const headers: Record<string, string> = {};
  if (status === 401) headers['WWW-Authenticate'] = 'Bearer realm="artifacta"';
  if (body.error.retry_after !== undefined) headers['Retry-After'] = String(body.error.retry_after);
  sendErrorAnswer(req, res, { status, body, headers }, status >= 500 ? () => log(err) : undefined);
}
