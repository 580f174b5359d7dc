import { InvalidInputError } from '../lib/errors.js';
import { MAX_CONTENT_TYPE } from './validate.js';

/** RFC 9110 `tchar`: what a token (a type, a subtype, a parameter name) may hold. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const TOKEN_CHAR = /[!#$%&'*+.^_`|~0-9A-Za-z-]/;

/**
 * Why `text` is not an RFC 9110 media type (`type "/" subtype *( OWS ";" OWS parameter )`,
 * parameters `token=token` or `token="quoted string"`), or null when it is one. A media range
 * (`*` as type or subtype, as in `*` + `/*`) is not a type an artifact can have.
 */
export function mediaTypeProblem(text: string): string | null {
  const slash = text.indexOf('/');
  if (slash < 0) return "it has no '/' between a type and a subtype";
  const type = text.slice(0, slash);
  if (!TOKEN.test(type)) return badToken('type', type);
  let i = slash + 1;
  while (i < text.length && TOKEN_CHAR.test(text[i])) i++;
  const subtype = text.slice(slash + 1, i);
  if (subtype === '') return `the subtype is empty or starts with '${text[i] ?? ''}'`;
  if (type === '*' || subtype === '*') return "'*' is a wildcard of Accept, not the type of a file";
  while (i < text.length) {
    i = skipSpace(text, i);
    if (i === text.length) break;
    if (text[i] !== ';')
      return `'${text[i]}' after '${text.slice(0, i).slice(-40)}' (parameters start with ';')`;
    i = skipSpace(text, i + 1);
    if (i === text.length || text[i] === ';') continue;
    const eq = text.indexOf('=', i);
    const name = eq < 0 ? text.slice(i) : text.slice(i, eq);
    if (eq < 0 || !TOKEN.test(name)) return `parameter '${name.slice(0, 40)}' is not name=value`;
    i = eq + 1;
    if (text[i] === '"') {
      i = endOfQuoted(text, i);
      if (i < 0)
        return `parameter '${name.slice(0, 40)}' has an unterminated or invalid quoted value`;
    } else {
      const start = i;
      while (i < text.length && TOKEN_CHAR.test(text[i])) i++;
      if (i === start) return `parameter '${name.slice(0, 40)}' has no value`;
    }
  }
  return null;
}

/**
 * Throws 400 `invalid_content_type` unless `text` is a media type (see
 * {@link mediaTypeProblem}); the message says what is wrong with it.
 */
export function validateContentType(text: string): string {
  const problem = mediaTypeProblem(text);
  if (problem === null) return text;
  throw new InvalidInputError(
    'invalid_content_type',
    `Content-Type '${text.slice(0, 60)}' is not a media type: ${problem}; send type/subtype, e.g. text/csv or application/json; charset=utf-8`,
  );
}

/**
 * The content type an artifact is given, checked as a push's Content-Type is: at most
 * {@link MAX_CONTENT_TYPE} characters and a media type ({@link validateContentType}); throws
 * 400 `invalid_content_type`. Every push, whatever carried the type (a header, a PAX record,
 * a JSON field), goes through this: the type is served back as a header.
 */
export function checkContentType(text: string): string {
  if (text.length > MAX_CONTENT_TYPE)
    throw new InvalidInputError(
      'invalid_content_type',
      `a content type is limited to ${MAX_CONTENT_TYPE} characters (got ${text.length})`,
    );
  return validateContentType(text);
}

function badToken(what: string, value: string): string {
  if (value === '') return `the ${what} is empty`;
  const bad = [...value].find((c) => !TOKEN_CHAR.test(c));
  return `the ${what} '${value.slice(0, 40)}' contains ${JSON.stringify(bad)}, which a token cannot`;
}

function skipSpace(text: string, i: number): number {
  while (text[i] === ' ' || text[i] === '\t') i++;
  return i;
}

/** Index after the quoted string opening at `i`, or -1 if it is unterminated or invalid. */
function endOfQuoted(text: string, i: number): number {
  for (let j = i + 1; j < text.length; j++) {
    const c = text.charCodeAt(j);
    if (c === 0x22) return j + 1;
    if (c === 0x5c) {
      j++;
      if (j >= text.length || !isQuotable(text.charCodeAt(j))) return -1;
    } else if (!isQuotable(c)) return -1;
  }
  return -1;
}

/** HTAB, SP, VCHAR or obs-text. */
function isQuotable(c: number): boolean {
  return c === 0x09 || (c >= 0x20 && c <= 0x7e) || (c >= 0x80 && c <= 0xff);
}
