import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ArtifactService } from '../core/artifact-service.js';
import type { ArtifactRecord } from '../core/types.js';
import { mediaTypeProblem } from '../core/media-type.js';
import { HEADER_VALUE } from '../core/validate.js';
import type { ByteRange } from '../blobs/blob-store.js';

/**
 * Serves an artifact's bytes: `ETag` (the sha256), `If-None-Match` → 304, a single `Range`
 * → 206 (416 if unsatisfiable), HEAD without a body. Content never runs on this origin:
 * `X-Content-Type-Options: nosniff` and `Content-Security-Policy: sandbox` on every answer.
 */
export async function serveArtifact(
  req: IncomingMessage,
  res: ServerResponse,
  artifacts: ArtifactService,
  rec: ArtifactRecord,
  opts: { attachment?: boolean } = {},
): Promise<void> {
  const etag = `"${rec.sha256}"`;
  // A stored type that is not a media type (imported before types were checked) is served as
  // bytes to download: what a browser would make of it cannot be predicted, and one no header
  // can carry would fail every read.
  const typed = HEADER_VALUE.test(rec.content_type) && mediaTypeProblem(rec.content_type) === null;
  const attachment = opts.attachment === true || !typed;
  const base: Record<string, string | number> = {
    ETag: etag,
    'Content-Type': typed ? rec.content_type : 'application/octet-stream',
    'Accept-Ranges': 'bytes',
    'X-Content-Type-Options': 'nosniff',
    'Content-Security-Policy':
      "sandbox; default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'",
    'Content-Disposition': `${attachment ? 'attachment' : 'inline'}; filename*=UTF-8''${encodeURIComponent(rec.name.split('/').pop() ?? 'file')}`,
    'Cache-Control': 'private, no-cache',
    'X-Cairn-Artifact-Id': rec.id,
    'X-Cairn-Version': rec.version,
  };
  if (matchesEtag(req.headers['if-none-match'], etag)) {
    res.writeHead(304, base);
    res.end();
    return;
  }
  let range: ByteRange | undefined;
  const header = req.headers.range;
  if (header && (!req.headers['if-range'] || req.headers['if-range'] === etag)) {
    const parsed = parseRange(header, rec.size);
    if (parsed === 'unsatisfiable') {
      // Errors are always the JSON envelope (DESIGN §2), this one included.
      const body = JSON.stringify({
        error: {
          code: 'range_not_satisfiable',
          message: `the range is outside the artifact's ${rec.size} bytes`,
        },
      });
      res.writeHead(416, {
        ...base,
        'Content-Type': 'application/json; charset=utf-8',
        'Content-Range': `bytes */${rec.size}`,
        'Content-Length': Buffer.byteLength(body),
      });
      res.end(req.method === 'HEAD' ? undefined : body);
      return;
    }
    range = parsed ?? undefined;
  }
  const length = range ? range.end - range.start + 1 : rec.size;
  const headers: Record<string, string | number> = { ...base, 'Content-Length': length };
  if (range) headers['Content-Range'] = `bytes ${range.start}-${range.end}/${rec.size}`;
  if (req.method === 'HEAD' || length === 0) {
    res.writeHead(range ? 206 : 200, headers);
    res.end();
    return;
  }
  const body = await artifacts.body(rec, range);
  res.writeHead(range ? 206 : 200, headers);
  try {
    await body.writeTo(res);
    res.end();
  } catch {
    // The client went away mid-download (or the blob failed mid-read): cut the connection so
    // the client sees a short body, never a complete-looking one.
    res.destroy();
  }
}

function matchesEtag(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.split(',').some((t) => {
    const v = t.trim().replace(/^W\//, '');
    return v === etag || v === '*';
  });
}

/**
 * Parses a single-range `Range` header. Returns null to ignore it (malformed or multiple
 * ranges: the whole body is served), or 'unsatisfiable'.
 */
export function parseRange(header: string, size: number): ByteRange | null | 'unsatisfiable' {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return null;
  if (m[1] === '') {
    const n = Number(m[2]);
    if (n === 0) return 'unsatisfiable';
    return size === 0 ? 'unsatisfiable' : { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (start >= size || start > end) return 'unsatisfiable';
  return { start, end };
}
