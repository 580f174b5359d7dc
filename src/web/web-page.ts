import { WEB_ASSETS, type WebAsset } from './assets/web-assets.js';

/**
 * The browse page's Content-Security-Policy. Script only from the page's own bundle (no inline
 * script, no eval); data only through the same-origin API; no plugins; not frameable. Trusted
 * Types make every HTML-from-string sink throw, except the `cairn-srcdoc` policy that feeds
 * sandboxed preview frames (see src/web/client/previews/sandbox-frame.ts). Those frames inherit
 * this policy too, so a previewed document cannot load anything from the network.
 */
export const PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' blob: data:",
  "connect-src 'self'",
  "frame-src 'self'",
  "form-action 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "require-trusted-types-for 'script'",
  'trusted-types cairn-srcdoc',
].join('; ');

/** Headers of the HTML page. */
export const PAGE_HEADERS: Record<string, string> = {
  'Content-Type': 'text/html; charset=utf-8',
  'Content-Security-Policy': PAGE_CSP,
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cache-Control': 'no-cache',
};

const url = (a: WebAsset) => `/ui/assets/${a.name}?v=${a.hash}`;

/**
 * The page shell served at `/` and `/ui/…`: static, no data in it (everything is fetched from
 * the /v1 API with the user's token), so it needs no token itself.
 */
export function pageShell(): string {
  const { 'app.js': js, 'app.css': css, 'favicon.svg': icon } = WEB_ASSETS;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="referrer" content="no-referrer">
<title>Cairn</title>
<link rel="icon" href="${url(icon)}" type="image/svg+xml">
<link rel="stylesheet" href="${url(css)}">
<script type="module" src="${url(js)}"></script>
</head>
<body>
<div id="app"><noscript>The Cairn browse page needs JavaScript. The same data is at /v1 (see /openapi.json).</noscript></div>
</body>
</html>
`;
}

/** An embedded asset by file name, or undefined. */
export function webAsset(name: string): WebAsset | undefined {
  return Object.hasOwn(WEB_ASSETS, name) ? WEB_ASSETS[name] : undefined;
}
