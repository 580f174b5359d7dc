import { statfsSync } from 'node:fs';
import type { Route } from '../../router.js';
import { reply } from '../artifacta-http.js';
import { requestsThisMonth } from '../usage.js';

/** `whoami` and `health`. */
export function bindArtifactaAccountRoutes(): Route[] {
  return [
    {
      method: 'GET',
      path: '/health',
      access: 'public',
      query: 'any',
      summary: 'Liveness: {status: "ok"}',
      handler: async (c) => reply(c, 200, { status: 'ok' }),
    },
    {
      method: 'GET',
      path: '/v1/whoami',
      access: 'read',
      summary: "The key and the server's usage (requests this month, stored bytes, disk left)",
      handler: async (c) => {
        const p = c.principal;
        if (!p) return;
        const token = (await c.app.tokens.list()).find((t) => t.id === p.tokenId);
        const secret = /^Bearer\s+(\S+)/i.exec(c.req.headers.authorization ?? '')?.[1] ?? '';
        const usage = await c.app.artifacta.usage();
        // The "plan" of a self-hosted server is its disk: what is stored plus what is free.
        const fs = statfsSync(c.app.config.dataDir);
        const shares = await c.app.shares.list();
        reply(c, 200, {
          tenant_name: token?.name || 'cairn',
          plan: 'self-hosted',
          api_key_last_4: secret.slice(-4),
          usage_requests_month: requestsThisMonth(c.app, p.tokenId),
          plan_requests_limit_month: null,
          usage_storage_bytes: usage.bytes,
          plan_storage_limit_bytes: usage.bytes + fs.bavail * fs.bsize,
          active_links: shares.filter((s) => s.status === 'active').length,
          max_active_links: null,
          rate_limit_sustained: c.app.config.artifactaRateLimit ?? null,
          rate_limit_burst: c.app.config.artifactaRateLimit
            ? (c.app.config.artifactaRateBurst ?? c.app.config.artifactaRateLimit * 2)
            : null,
          scope: p.scope,
          sessions: p.sessions,
          token_id: p.tokenId,
        });
      },
    },
  ];
}
