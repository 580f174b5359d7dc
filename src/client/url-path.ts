import { CairnApiError } from './send-request.js';

/** What a path segment names, for the error that refuses it. */
type SegmentKind = 'session id' | 'artifact id' | 'token id' | 'share id';

const CODE: Record<SegmentKind, string> = {
  'session id': 'invalid_session_id',
  'artifact id': 'invalid_request',
  'token id': 'invalid_request',
  'share id': 'invalid_request',
};

/**
 * One percent-encoded path segment. `.` and `..` are refused with a 400 CairnApiError, as the
 * server would refuse them: URL resolution drops or climbs such segments (also written
 * `%2e%2e`) before a request is sent, so `../pin` would reach another route of another
 * session instead of failing.
 */
export function segment(value: string, kind: SegmentKind): string {
  if (value === '.' || value === '..')
    throw new CairnApiError(400, CODE[kind], `${kind} '${value}' is invalid: it is not a name`);
  return encodeURIComponent(value);
}

/**
 * The API path of an artifact by session and name (each `/`-separated part of the name
 * encoded). Throws CairnApiError(400, `invalid_name`) for a `.` or `..` part, with the
 * server's message for it.
 */
export function artifactPath(session: string, name: string): string {
  const parts = name.split('/').map((part) => {
    if (part === '.' || part === '..')
      throw new CairnApiError(
        400,
        'invalid_name',
        `artifact name '${name.slice(0, 200)}' is invalid: '.' and '..' segments are not allowed`,
      );
    return encodeURIComponent(part);
  });
  return `/v1/sessions/${segment(session, 'session id')}/artifacts/${parts.join('/')}`;
}
