import type { App } from '../../app.js';

/** Requests per token in the current UTC month, counted since this process started. */
const counts = new WeakMap<App, Map<string, { month: string; n: number }>>();

const monthOf = (ms: number) => new Date(ms).toISOString().slice(0, 7);

/** Counts one authenticated request of `tokenId` on the Artifacta listener. */
export function countRequest(app: App, tokenId: string): void {
  let byToken = counts.get(app);
  if (!byToken) counts.set(app, (byToken = new Map<string, { month: string; n: number }>()));
  const month = monthOf(app.clock());
  const c = byToken.get(tokenId);
  if (c && c.month === month) c.n++;
  else byToken.set(tokenId, { month, n: 1 });
}

/** Requests `tokenId` made this month (since the process started). */
export function requestsThisMonth(app: App, tokenId: string): number {
  const c = counts.get(app)?.get(tokenId);
  return c && c.month === monthOf(app.clock()) ? c.n : 0;
}
