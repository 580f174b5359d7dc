import type { Meta } from './types.js';
import { InvalidInputError } from '../lib/errors.js';
import { truncate } from '../lib/duration.js';

/** What an HTTP header value may hold (Node refuses to send anything else): for content types. */
export const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]+$/;
/** Longest content type an artifact keeps (a push refuses longer, an export carries it). */
export const MAX_CONTENT_TYPE = 255;

/** Session ids: `^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$`. */
export const SESSION_ID_RE = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
/** Metadata keys: `^[a-z0-9][a-z0-9_.-]{0,63}$`. */
export const META_KEY_RE = /^[a-z0-9][a-z0-9_.-]{0,63}$/;
/** At most this many metadata keys per artifact or session. */
export const MAX_META_KEYS = 64;
/** At most this many bytes (UTF-8) per metadata value. */
export const MAX_META_VALUE_BYTES = 1024;
/** At most this many bytes (UTF-8) per artifact name. */
export const MAX_NAME_BYTES = 1024;

/** Metadata: string keys to string values (defined with the records in types.ts). */
export type { Meta };

/** Throws `invalid_session_id` unless `id` is a valid session id. */
export function validateSessionId(id: string): string {
  if (!SESSION_ID_RE.test(id)) {
    throw new InvalidInputError(
      'invalid_session_id',
      `session id '${truncate(id)}' is invalid: use 1-128 characters from A-Z a-z 0-9 . _ : - starting with a letter or digit`,
    );
  }
  return id;
}

/**
 * Throws `invalid_name` unless `name` is a safe relative path: UTF-8, 1–1024 bytes,
 * `/`-separated segments, none empty, `.` or `..`, no backslash, no control characters.
 */
export function validateName(name: string): string {
  const bytes = Buffer.byteLength(name, 'utf8');
  const fail = (why: string): never => {
    throw new InvalidInputError(
      'invalid_name',
      `artifact name '${truncate(printable(name))}' is invalid: ${why}`,
    );
  };
  if (bytes === 0 || bytes > MAX_NAME_BYTES) fail('it must be 1 to 1024 bytes long');
  if (!name.isWellFormed()) fail('it must be valid UTF-8');
  // C0, DEL and C1 (U+0080–U+009F, e.g. NEL): terminals and log viewers act on them.
  if (/[\u0000-\u001f\u007f-\u009f]/.test(name)) fail('it must not contain control characters');
  if (name.includes('\\')) fail('use / to separate folders, not a backslash');
  if (name.startsWith('/')) fail('it must be relative (no leading /)');
  for (const seg of name.split('/')) {
    if (seg === '') fail('it must not contain empty segments (// or a trailing /)');
    if (seg === '.' || seg === '..') fail("'.' and '..' segments are not allowed");
  }
  return name;
}

/** Throws `invalid_meta` unless `meta` obeys the key, value and count limits. */
export function validateMeta(meta: Record<string, unknown>): Meta {
  const keys = Object.keys(meta);
  if (keys.length > MAX_META_KEYS) {
    throw new InvalidInputError(
      'invalid_meta',
      `at most ${MAX_META_KEYS} metadata keys are allowed, got ${keys.length}`,
    );
  }
  const out: Meta = {};
  for (const key of keys) {
    validateMetaKey(key);
    const value = meta[key];
    if (typeof value !== 'string') {
      throw new InvalidInputError('invalid_meta', `metadata value of '${key}' must be a string`);
    }
    if (Buffer.byteLength(value, 'utf8') > MAX_META_VALUE_BYTES || !value.isWellFormed()) {
      throw new InvalidInputError(
        'invalid_meta',
        `metadata value of '${key}' must be valid UTF-8 of at most ${MAX_META_VALUE_BYTES} bytes`,
      );
    }
    out[key] = value;
  }
  return out;
}

/** Throws `invalid_meta` unless `key` is a valid metadata key. */
export function validateMetaKey(key: string): string {
  if (!META_KEY_RE.test(key)) {
    throw new InvalidInputError(
      'invalid_meta',
      `metadata key '${truncate(printable(key))}' is invalid: use 1-64 characters from a-z 0-9 _ . - starting with a letter or digit`,
    );
  }
  return key;
}

/** Parses `key=value` pairs (CLI and query strings) into metadata; throws `invalid_meta`. */
export function parseMetaPairs(pairs: string[]): Meta {
  const meta: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) {
      throw new InvalidInputError(
        'invalid_meta',
        `metadata '${truncate(pair)}' must look like key=value`,
      );
    }
    meta[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return validateMeta(meta);
}

/** Throws `invalid_sha256` unless `hex` is 64 lowercase hex digits. */
export function validateSha256(hex: string): string {
  if (!/^[0-9a-f]{64}$/.test(hex)) {
    throw new InvalidInputError('invalid_sha256', 'sha256 must be 64 lowercase hexadecimal digits');
  }
  return hex;
}

/** Throws `invalid_derived_from` unless `id` is an artifact id (`a_` + 26 characters). */
export function validateArtifactId(id: string): string {
  if (!/^a_[0-9A-Z]{26}$/.test(id)) {
    throw new InvalidInputError(
      'invalid_derived_from',
      `derived_from '${id.slice(0, 40)}' is not an artifact id (a_…)`,
    );
  }
  return id;
}

/** `s` with control characters shown as escapes, safe for a message. */
export function printable(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f]/g, '?');
}
