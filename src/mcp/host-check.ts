import { isIP } from 'node:net';
import { CairnError } from '../lib/errors.js';

const LOCAL_NAMES = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

/**
 * Validates `Host` and `Origin` of a request to `/mcp` against DNS rebinding: a page on
 * evil.example whose name resolves to 127.0.0.1 must not reach the endpoint. Allowed hosts:
 * localhost names, IP literals (a rebinding attack needs a DNS name) and the names in
 * `extraNames` (the `--public-url` host, a named `--host`). An `Origin`, when sent (browsers
 * only), must be the requested host itself, a localhost name or one of `extraNames` (an IP
 * literal other than the host is another site). Throws 403 `host_not_allowed` /
 * `origin_not_allowed`.
 */
export function checkHostAndOrigin(
  headers: { host?: string; origin?: string | string[] },
  extraNames: string[],
): void {
  const allowed = (hostname: string): boolean => {
    const h = hostname.toLowerCase();
    return (
      LOCAL_NAMES.has(h) ||
      isIP(h.replace(/^\[|\]$/g, '')) !== 0 ||
      extraNames.some((n) => n.toLowerCase() === h)
    );
  };
  const host = headers.host ? hostnameOf(`http://${headers.host}`) : null;
  if (!host || !allowed(host))
    throw new CairnError(
      'host_not_allowed',
      403,
      `Host '${String(headers.host ?? '').slice(0, 100)}' is not allowed for /mcp (DNS rebinding protection); connect through localhost or an IP address, or start the server with --public-url naming this host`,
    );
  const origin = headers.origin;
  if (origin === undefined) return;
  const o = typeof origin === 'string' && origin !== 'null' ? hostnameOf(origin) : null;
  // Not any IP literal here: a page served from another address is another site.
  const sameSite = (h: string) =>
    h === host.toLowerCase() || LOCAL_NAMES.has(h) || extraNames.some((n) => n.toLowerCase() === h);
  if (!o || !sameSite(o.toLowerCase()))
    throw new CairnError(
      'origin_not_allowed',
      403,
      `Origin '${String(origin).slice(0, 100)}' is not allowed for /mcp; browsers may only call it from this server's own pages or localhost`,
    );
}

function hostnameOf(url: string): string | null {
  try {
    return new URL(url).hostname || null;
  } catch {
    return null;
  }
}
