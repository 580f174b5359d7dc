import { NotFoundError } from '../../lib/errors.js';
import type { Ctx, Route } from '../router.js';
import { PAGE_HEADERS, pageShell, webAsset } from '../../web/web-page.js';

/**
 * Routes of the browse page. All public: the shell and its assets hold no data; the page signs
 * in with a token and reads everything through the /v1 API.
 */
export function bindWebRoutes(): Route[] {
  // The page's own query strings (filters, cursors) are read by the page, not here.
  const shell = { method: 'GET', access: 'public', query: 'any', handler: sendShell } as const;
  return [
    { ...shell, path: '/', summary: 'Browse page (sign in with a token; data comes from /v1)' },
    {
      method: 'GET',
      path: '/ui/assets/:file',
      access: 'public',
      query: ['v'],
      summary: 'Browse page assets (script, style, icon) embedded in the server',
      handler: sendAsset,
    },
    { ...shell, path: '/ui/*page', summary: 'Browse page views (sessions, session, artifact)' },
  ];
}

async function sendShell(c: Ctx): Promise<void> {
  const body = pageShell();
  c.res.writeHead(200, { ...PAGE_HEADERS, 'Content-Length': Buffer.byteLength(body) });
  c.res.end(body);
}

async function sendAsset(c: Ctx): Promise<void> {
  const asset = webAsset(c.params.file);
  if (!asset) throw new NotFoundError(`no asset ${c.params.file.slice(0, 60)}`);
  const etag = `"${asset.hash}"`;
  const headers: Record<string, string | number> = {
    'Content-Type': asset.type,
    ETag: etag,
    'X-Content-Type-Options': 'nosniff',
    // A versioned URL (?v=hash) never changes; anything else is revalidated.
    'Cache-Control':
      c.url.searchParams.get('v') === asset.hash
        ? 'public, max-age=31536000, immutable'
        : 'no-cache',
  };
  if (c.req.headers['if-none-match'] === etag) {
    c.res.writeHead(304, headers);
    c.res.end();
    return;
  }
  headers['Content-Length'] = Buffer.byteLength(asset.body);
  c.res.writeHead(200, headers);
  c.res.end(asset.body);
}
