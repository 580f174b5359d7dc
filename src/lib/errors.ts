/**
 * Cairn's error model: every failure a user can cause is a {@link CairnError} with a stable
 * snake_case `code`, an HTTP `status` and a message that is safe to show. The optional `cause`
 * is for logs only and never leaves the process.
 */
export class CairnError extends Error {
  /** Stable machine-readable code, e.g. `invalid_name`. */
  readonly code: string;
  /** HTTP status the server answers with. */
  readonly status: number;
  /** Extra public data (sent to clients). */
  readonly details?: Record<string, unknown>;

  constructor(
    code: string,
    status: number,
    message: string,
    opts: { details?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(message, { cause: opts.cause });
    this.name = 'CairnError';
    this.code = code;
    this.status = status;
    this.details = opts.details;
  }
}

/** 400: the request is malformed; `code` says which part (invalid_name, invalid_meta, …). */
export class InvalidInputError extends CairnError {
  constructor(code: string, message: string, details?: Record<string, unknown>) {
    super(code, 400, message, { details });
  }
}

/** 404: the named thing does not exist (or has expired). */
export class NotFoundError extends CairnError {
  constructor(message: string, code = 'not_found') {
    super(code, 404, message);
  }
}

/** 409: the request conflicts with current state. */
export class ConflictError extends CairnError {
  constructor(code: string, message: string) {
    super(code, 409, message);
  }
}

/** 409 `session_sealed`: the session is sealed and accepts no change. */
export class SessionSealedError extends ConflictError {
  constructor(sessionId: string) {
    super(
      'session_sealed',
      `session '${sessionId}' is sealed and accepts no changes; push into a new session instead`,
    );
  }
}

/** 413 `payload_too_large`. */
export class TooLargeError extends CairnError {
  constructor(message: string) {
    super('payload_too_large', 413, message);
  }
}

/** 400 `digest_mismatch`: the received bytes do not match the digest the client announced. */
export class DigestMismatchError extends CairnError {
  constructor(message: string) {
    super('digest_mismatch', 400, message);
  }
}

/**
 * 503: the server is at a limit that frees itself (memory for requests in flight); the client
 * should retry after `retryAfterSeconds` (sent as `Retry-After`).
 */
export class BusyError extends CairnError {
  constructor(
    code: string,
    message: string,
    readonly retryAfterSeconds = 2,
  ) {
    super(code, 503, message);
  }
}

/** 401 `unauthorized`: no valid token. */
export class UnauthorizedError extends CairnError {
  constructor(message = 'a valid bearer token is required: send Authorization: Bearer <token>') {
    super('unauthorized', 401, message);
  }
}

/** 403 `forbidden`: the token is valid but its scope does not allow this. */
export class ForbiddenError extends CairnError {
  constructor(message: string) {
    super('forbidden', 403, message);
  }
}

/** 410 `gone`: the thing existed but has expired or been revoked. */
export class GoneError extends CairnError {
  constructor(message: string) {
    super('gone', 410, message);
  }
}

/** 507 `insufficient_storage`: the disk is full; nothing was stored. */
export class InsufficientStorageError extends CairnError {
  constructor(cause?: unknown) {
    super('insufficient_storage', 507, 'the server is out of disk space; nothing was stored', {
      cause,
    });
  }
}

/** True for filesystem errors that mean "no space left". */
export function isDiskFull(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return (
    code === 'ENOSPC' || code === 'EDQUOT' || (err as { code?: string })?.code === 'SQLITE_FULL'
  );
}

/**
 * 503 `blob_being_collected`: garbage collection is removing these bytes right now (their
 * catalog row is marked); the write that needed them changed nothing. Retry shortly.
 */
export class BlobCollectedError extends CairnError {
  constructor(sha256: string) {
    super(
      'blob_being_collected',
      503,
      `the bytes ${sha256.slice(0, 12)}… are being garbage-collected right now; retry the request`,
    );
  }
}

/**
 * 503 `catalog_unavailable`: the catalog's database server cannot be reached (down, restarting,
 * connection lost). A write in flight was applied whole or not at all (its transaction either
 * committed or did not). Retry after `retryAfterSeconds`.
 */
export class CatalogUnavailableError extends BusyError {
  constructor(cause?: unknown) {
    super(
      'catalog_unavailable',
      'the catalog database cannot be reached right now; retry shortly (a write is applied whole or not at all)',
    );
    if (cause !== undefined) Object.defineProperty(this, 'cause', { value: cause });
  }
}

/**
 * 503 `blob_store_unavailable`: the blob store (an S3 endpoint) cannot be reached or answers
 * with a server error; nothing was stored. Retry after `retryAfterSeconds`.
 */
export class BlobStoreUnavailableError extends BusyError {
  constructor(message: string, cause?: unknown) {
    super('blob_store_unavailable', message, 5);
    if (cause !== undefined) Object.defineProperty(this, 'cause', { value: cause });
  }
}
