import type { App } from '../../app.js';
import { CairnError } from '../../lib/errors.js';

interface Bucket {
  tokens: number;
  at: number;
}

const buckets = new WeakMap<App, Map<string, Bucket>>();

/**
 * Takes one request from `tokenId`'s bucket (per key: `rate` a second sustained, up to `burst`
 * at once), or throws 429 `rate_limited` with `retry_after` (whole seconds until a request
 * fits again). No limit when the server was started without `--artifacta-rate-limit`.
 */
export function takeRequest(app: App, tokenId: string): void {
  const rate = app.config.artifactaRateLimit;
  if (!rate) return;
  const burst = app.config.artifactaRateBurst ?? rate * 2;
  let byKey = buckets.get(app);
  if (!byKey) buckets.set(app, (byKey = new Map<string, Bucket>()));
  const now = app.clock();
  const b = byKey.get(tokenId) ?? { tokens: burst, at: now };
  b.tokens = Math.min(burst, b.tokens + ((now - b.at) / 1000) * rate);
  b.at = now;
  byKey.set(tokenId, b);
  if (b.tokens >= 1) {
    b.tokens -= 1;
    return;
  }
  const retryAfter = Math.max(1, Math.ceil((1 - b.tokens) / rate));
  throw new CairnError(
    'rate_limited',
    429,
    `this key is over ${rate} requests a second (bursts of ${burst}); retry after ${retryAfter} s`,
    { details: { retry_after: retryAfter } },
  );
}
