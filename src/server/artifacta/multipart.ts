import type { IncomingMessage } from 'node:http';
import { PassThrough, type Readable } from 'node:stream';
import { InvalidInputError } from '../../lib/errors.js';

/** What a multipart/form-data part says about itself. */
export interface PartHead {
  name: string;
  filename: string | null;
  contentType: string | null;
}

/** How {@link readMultipart} hands over what it parses. */
export interface MultipartHandlers {
  /** A text field (at most `maxFieldBytes`). */
  field(name: string, value: string): void;
  /**
   * A part named `fileField`: its bytes stream through `body` while the returned promise (the
   * consumer) runs. A rejection of it ends the parse with that error.
   */
  file(head: PartHead, body: Readable): Promise<void>;
}

const bad = (message: string) => new InvalidInputError('invalid_request', message);

/** The boundary of a `multipart/form-data` Content-Type, or null if it is not one. */
export function multipartBoundary(contentType: string | undefined): string | null {
  if (!contentType || !/^multipart\/form-data\s*;/i.test(contentType)) return null;
  const m = /;\s*boundary=(?:"([^"]{1,70})"|([^\s;]{1,70}))/i.exec(contentType);
  if (!m) throw bad('multipart/form-data needs a boundary parameter');
  return m[1] ?? m[2];
}

/**
 * Streams a multipart/form-data body (chunked or with a length): text parts go to
 * `h.field`, the part named `fileField` streams to `h.file` with backpressure (never buffered
 * whole). Resolves once the closing delimiter was read and the file's consumer finished.
 * Throws `invalid_request` for a malformed body.
 */
export function readMultipart(
  req: IncomingMessage,
  boundary: string,
  fileField: string,
  h: MultipartHandlers,
  maxFieldBytes = 64 * 1024,
): Promise<void> {
  const delim = Buffer.from(`\r\n--${boundary}`);
  return new Promise<void>((resolve, reject) => {
    // The body is searched as if a CRLF preceded it, so the first delimiter looks like the rest.
    let buf: Buffer = Buffer.from('\r\n');
    let state: 'preamble' | 'head' | 'body' | 'done' = 'preamble';
    let part: PartHead | null = null;
    let fieldChunks: Buffer[] = [];
    let fieldBytes = 0;
    let file: PassThrough | null = null;
    let consumer: Promise<void> | null = null;
    let failed = false;
    const fail = (err: unknown) => {
      if (failed) return;
      failed = true;
      cleanup();
      file?.destroy();
      reject(err instanceof Error ? err : new Error(String(err)));
    };
    const emit = (data: Buffer) => {
      if (data.length === 0 || !part) return;
      if (file) {
        if (!file.write(data)) {
          req.pause();
          file.once('drain', () => req.resume());
        }
        return;
      }
      fieldBytes += data.length;
      if (fieldBytes > maxFieldBytes)
        throw bad(`field '${part.name}' exceeds ${maxFieldBytes} bytes`);
      fieldChunks.push(data);
    };
    const endPart = () => {
      if (!part) return;
      // The file ends with its part: later parts are parts (a write into the ended stream
      // would be an 'error' event nothing listens to, which ends the process).
      if (file) file.end();
      else h.field(part.name, Buffer.concat(fieldChunks).toString('utf8'));
      file = null;
      part = null;
      fieldChunks = [];
      fieldBytes = 0;
    };
    const step = (): boolean => {
      if (state === 'preamble' || state === 'body') {
        const at = buf.indexOf(delim);
        if (at < 0) {
          // Keep what could be the start of a delimiter split across chunks.
          const keep = Math.min(buf.length, delim.length - 1);
          if (state === 'body') emit(buf.subarray(0, buf.length - keep));
          buf = buf.subarray(buf.length - keep);
          return false;
        }
        if (buf.length < at + delim.length + 2) return false;
        if (state === 'body') emit(buf.subarray(0, at));
        endPart();
        const after = buf.subarray(at + delim.length, at + delim.length + 2).toString('latin1');
        buf = buf.subarray(at + delim.length + 2);
        if (after === '--') state = 'done';
        else if (after === '\r\n') state = 'head';
        else throw bad('malformed multipart body: a delimiter is not followed by CRLF or --');
        return true;
      }
      if (state === 'head') {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) {
          if (buf.length > 16 * 1024) throw bad('a multipart part has more than 16 KiB of headers');
          return false;
        }
        part = parseHead(buf.subarray(0, end).toString('utf8'));
        buf = buf.subarray(end + 4);
        state = 'body';
        if (part.name === fileField) {
          file = new PassThrough({ highWaterMark: 1024 * 1024 });
          consumer = h.file(part, file);
          consumer.catch(fail);
        }
        return true;
      }
      buf = Buffer.alloc(0);
      return false;
    };
    const onData = (chunk: Buffer) => {
      if (failed) return;
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      try {
        while (step());
      } catch (err) {
        fail(err);
      }
    };
    const onEnd = () => {
      cleanup();
      if (failed) return;
      if (state !== 'done')
        return fail(bad('the multipart body ended before its closing delimiter'));
      (consumer ?? Promise.resolve()).then(() => resolve(), fail);
    };
    const onClose = () => {
      if (state !== 'done') fail(new Error('the client closed the connection mid-body'));
    };
    const cleanup = () =>
      req.off('data', onData).off('end', onEnd).off('error', fail).off('close', onClose);
    req.on('data', onData).on('end', onEnd).on('error', fail).on('close', onClose);
  });
}

/** Parses a part's headers: Content-Disposition name/filename and Content-Type. */
function parseHead(text: string): PartHead {
  let name: string | null = null;
  let filename: string | null = null;
  let contentType: string | null = null;
  for (const line of text.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const key = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (key === 'content-type') contentType = value;
    if (key === 'content-disposition') {
      name =
        /;\s*name="((?:[^"\\]|\\.)*)"/i.exec(value)?.[1] ??
        /;\s*name=([^;\s]+)/i.exec(value)?.[1] ??
        null;
      filename = /;\s*filename="((?:[^"\\]|\\.)*)"/i.exec(value)?.[1] ?? null;
    }
  }
  if (name === null) throw bad('a multipart part has no Content-Disposition name');
  return { name, filename, contentType };
}
