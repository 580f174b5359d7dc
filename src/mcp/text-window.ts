/**
 * Helpers for showing part of an artifact to a model as text: which content types are text,
 * whether unknown bytes look like text, and cutting a byte window on UTF-8 boundaries.
 */

const TEXT_TYPES =
  /^(text\/|application\/(json|ld\+json|xml|javascript|ecmascript|x-ndjson|ndjson|x-yaml|yaml|toml|x-toml|sql|graphql|x-sh|x-python|typescript|x-typescript|csv|x-www-form-urlencoded)\b)|\+(json|xml|yaml)\b/i;

/** True if a content type is text by definition; `undefined` if it only says "bytes". */
export function isTextType(contentType: string): boolean | undefined {
  const t = contentType.split(';')[0].trim().toLowerCase();
  if (TEXT_TYPES.test(t)) return true;
  if (t === 'application/octet-stream' || t === '') return undefined;
  return false;
}

/** True if bytes of unknown type look like UTF-8 text (no NUL, decodes cleanly). */
export function looksLikeText(buf: Buffer): boolean {
  if (buf.includes(0)) return false;
  const { bytes } = utf8Window(buf, 0, false);
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/**
 * The part of `buf` (read at artifact offset `offset`) that is whole UTF-8 characters: leading
 * continuation bytes are skipped (an offset inside a character moves forward) and, unless
 * `atEnd`, a character cut at the end is left for the next read. Returns the bytes and the
 * artifact offset where they start.
 */
export function utf8Window(
  buf: Buffer,
  offset: number,
  atEnd: boolean,
): { bytes: Buffer; start: number } {
  let s = 0;
  while (s < buf.length && s < 3 && (buf[s] & 0xc0) === 0x80) s++;
  let e = buf.length;
  if (!atEnd) {
    // Walk back over at most 3 continuation bytes to the lead byte of the last character.
    let i = e - 1;
    while (i >= s && i > e - 4 && (buf[i] & 0xc0) === 0x80) i--;
    if (i >= s) {
      const lead = buf[i];
      const need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
      if (e - i < need) e = i;
    }
  }
  return { bytes: buf.subarray(s, e), start: offset + s };
}
