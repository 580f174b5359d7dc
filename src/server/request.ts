import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { InvalidInputError, TooLargeError } from '../lib/errors.js';
import { parseDuration } from '../lib/duration.js';
import { parseTime } from '../lib/time.js';

/** Reads and parses a JSON object body of at most `max` bytes; empty body → `{}`. */
export async function readJson(
  req: IncomingMessage,
  max: number,
): Promise<Record<string, unknown>> {
  const type = req.headers['content-type'] ?? 'application/json';
  if (!/^application\/json\b/i.test(type)) {
    throw new InvalidInputError(
      'invalid_content_type',
      'send the request body as application/json',
    );
  }
  const text = await readLimited(req, max);
  if (text.length === 0) return {};
  let value: unknown;
  try {
    // fatal: invalid UTF-8 is refused, not turned into U+FFFD (the query path refuses it too).
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(text));
  } catch {
    throw new InvalidInputError('invalid_json', 'the request body is not valid JSON in UTF-8');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidInputError('invalid_json', 'the request body must be a JSON object');
  }
  return value as Record<string, unknown>;
}

/**
 * Throws `invalid_request` naming the first field of `body` not in `allowed`: a typo such as
 * `session` for `sessions` must not quietly create something other than what was asked for.
 * `what` completes "… takes": e.g. `a share takes ttl and max_downloads`.
 */
export function onlyFields(body: Record<string, unknown>, allowed: string[], what: string): void {
  for (const k of Object.keys(body)) {
    if (!allowed.includes(k))
      throw new InvalidInputError('invalid_request', `unknown field '${k.slice(0, 40)}'; ${what}`);
  }
}

/**
 * Reads a body of at most `max` bytes. Over the limit it rejects with TooLargeError without
 * destroying the request (a `for await` loop would), so the 413 can still be answered.
 */
async function readLimited(req: IncomingMessage, max: number): Promise<Buffer> {
  const tooLarge = `JSON bodies are limited to ${max} bytes`;
  if (Number(req.headers['content-length']) > max) throw new TooLargeError(tooLarge);
  const chunks: Buffer[] = [];
  await eachChunk(req, max, tooLarge, (c) => chunks.push(c));
  return Buffer.concat(chunks);
}

/**
 * The sha256 (hex) of a request body, read to its end without keeping it; rejects with
 * TooLargeError past `max` bytes, or if the client goes away mid-body.
 */
export async function hashBody(req: IncomingMessage, max: number): Promise<string> {
  const hash = createHash('sha256');
  const tooLarge = `the upload exceeds the server's maximum size of ${max} bytes`;
  await eachChunk(req, max, tooLarge, (c) => hash.update(c));
  return hash.digest('hex');
}

/**
 * Hands each chunk of a body to `onChunk` until its end; rejects with TooLargeError(`tooLarge`)
 * once more than `max` bytes arrived (the request is left as it is, so an answer can still be
 * sent), or if the client goes away mid-body.
 */
function eachChunk(
  req: IncomingMessage,
  max: number,
  tooLarge: string,
  onChunk: (chunk: Buffer) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const done = (err: Error | null) => {
      req.off('data', onData).off('end', onEnd).off('error', done).off('close', onClose);
      if (err) reject(err);
      else resolve();
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) done(new TooLargeError(tooLarge));
      else onChunk(chunk);
    };
    const onEnd = () => done(null);
    const onClose = () => done(new Error('the client closed the connection mid-body'));
    req.on('data', onData).on('end', onEnd).on('error', done).on('close', onClose);
  });
}

/** Query string access that rejects unknown parameters with a helpful message. */
export class Query {
  constructor(
    readonly params: URLSearchParams,
    allowed: readonly string[] | 'any',
    allowMeta = false,
  ) {
    if (allowed === 'any') return;
    for (const key of new Set(params.keys())) {
      if (allowed.includes(key) || (allowMeta && key.startsWith('meta.'))) continue;
      throw new InvalidInputError(
        'invalid_query',
        `unknown query parameter '${key.slice(0, 40)}'; allowed: ${allowed.join(', ')}${allowMeta ? ', meta.KEY' : ''}`,
      );
    }
  }

  /** A single-valued parameter, or undefined. */
  str(name: string): string | undefined {
    const all = this.params.getAll(name);
    if (all.length > 1)
      throw new InvalidInputError('invalid_query', `query parameter '${name}' may be given once`);
    return all[0];
  }

  all(name: string): string[] {
    return this.params.getAll(name);
  }

  /** A whole number in [min, max], or `def`. */
  int(name: string, def: number | undefined, min: number, max: number): number | undefined {
    const v = this.str(name);
    if (v === undefined || v === '') return def;
    if (!/^\d{1,15}$/.test(v) || Number(v) < min || Number(v) > max) {
      throw new InvalidInputError(
        `invalid_${name}`,
        `${name} must be a whole number from ${min} to ${max}`,
      );
    }
    return Number(v);
  }

  bool(name: string): boolean | undefined {
    const v = this.str(name);
    if (v === undefined) return undefined;
    if (v === 'true' || v === '1' || v === '') return true;
    if (v === 'false' || v === '0') return false;
    throw new InvalidInputError('invalid_query', `${name} must be true or false`);
  }

  /** A duration like 7d, in ms. */
  duration(name: string): number | undefined {
    const v = this.str(name);
    return v === undefined ? undefined : parseDuration(v, name);
  }

  /** A point in time (see parseTime). */
  time(name: string, now: number): number | undefined {
    const v = this.str(name);
    return v === undefined ? undefined : parseTime(v, name, now);
  }
}

/** The token of an `Authorization: Bearer <token>` header; undefined if absent or malformed. */
export function bearer(req: IncomingMessage): string | undefined {
  const h = req.headers.authorization;
  const m = h ? /^Bearer\s+(\S+)\s*$/i.exec(h) : null;
  return m?.[1];
}
