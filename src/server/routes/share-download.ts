import { mediaTypeProblem } from '../../core/media-type.js';
import type { Ctx } from '../router.js';
import { serveArtifact } from '../serve-content.js';
import { streamSessionExport } from '../session-export.js';

/**
 * Types a browser would execute or render actively (script, markup that can carry script:
 * HTML, any XML incl. `+xml`, XSL, WML, PDF, JavaScript), and any stored type that is not a
 * media type at all (imported before types were checked; a browser's reading of it cannot be
 * predicted): served from share links as attachments, on top of the
 * `Content-Security-Policy: sandbox` every artifact answer has, so shared content never runs
 * on Cairn's origin.
 */
export function isActiveType(contentType: string): boolean {
  if (mediaTypeProblem(contentType) !== null) return true;
  const t = contentType.split(';')[0].trim().toLowerCase();
  return (
    ACTIVE.has(t) ||
    t.endsWith('+xml') ||
    /^(text|application)\/(x-)?(javascript|ecmascript)$/.test(t)
  );
}

const ACTIVE = new Set([
  'text/html',
  'text/xml',
  'application/xml',
  'text/xsl',
  'text/vnd.wap.wml',
  'application/pdf',
]);

/**
 * `GET`/`HEAD /s/{token}`: no bearer token; the link's secret is the credential. An artifact is
 * served with its type, ETag, Range and HEAD (active types as attachments); a session as a
 * tar. Each GET that sends content counts one download (HEAD and 304 do not).
 */
export async function serveShare(c: Ctx): Promise<void> {
  const target = await c.app.shares.resolve(c.params.token);
  c.res.setHeader('Referrer-Policy', 'no-referrer');
  c.res.setHeader('X-Robots-Tag', 'noindex');
  const isGet = c.req.method === 'GET';
  if (target.artifact) {
    const rec = target.artifact;
    if (isGet && !notModified(c.req.headers['if-none-match'], `"${rec.sha256}"`))
      await c.app.shares.claimDownload(target.share);
    else await c.app.shares.touch(target.share);
    await serveArtifact(c.req, c.res, c.app.artifacts, rec, {
      attachment: isActiveType(rec.content_type),
    });
    return;
  }
  // A session: its export tar (the same stream as GET /v1/sessions/{sid}/export).
  if (isGet) await c.app.shares.claimDownload(target.share);
  else await c.app.shares.touch(target.share);
  await streamSessionExport(c.app, target.session.id, c.res);
}

function notModified(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.split(',').some((t) => {
    const v = t.trim().replace(/^W\//, '');
    return v === etag || v === '*';
  });
}
