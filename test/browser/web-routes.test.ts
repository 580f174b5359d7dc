import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WEB_ASSETS } from '../../src/web/assets/web-assets.js';
import { ROOT, startTestServer, type TestServer } from '../helpers/server.js';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => s?.close());

describe('browse page routes', () => {
  it.each(['/', '/ui/sessions', '/ui/sessions/run_1', '/ui/artifacts/a_x'])(
    '%s serves the page shell without a token, with a strict CSP',
    async (path) => {
      const res = await fetch(s.url + path);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toContain('unsafe-inline');
      expect(csp).not.toContain('unsafe-eval');
      expect(csp).toContain("require-trusted-types-for 'script'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      const html = await res.text();
      // No inline script and no data: the page is the same for everyone.
      expect(html).toMatch(
        /<script type="module" src="\/ui\/assets\/app\.js\?v=[0-9a-f]{16}"><\/script>/,
      );
      expect(html).not.toMatch(/<script>|<script [^>]*>[^<]/);
      expect(html).not.toContain('run_1');
    },
  );

  it('serves the embedded assets with ETag, long caching only for the versioned URL', async () => {
    for (const a of Object.values(WEB_ASSETS)) {
      const res = await fetch(`${s.url}/ui/assets/${a.name}?v=${a.hash}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe(a.type);
      expect(res.headers.get('cache-control')).toContain('immutable');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(await res.text()).toBe(a.body);
      const again = await fetch(`${s.url}/ui/assets/${a.name}`, {
        headers: { 'If-None-Match': `"${a.hash}"` },
      });
      expect(again.status).toBe(304);
      expect(again.headers.get('cache-control')).toBe('no-cache');
    }
    expect((await fetch(`${s.url}/ui/assets/other.js`)).status).toBe(404);
    expect((await fetch(`${s.url}/ui/assets/toString`)).status).toBe(404);
  });

  it('the shell and assets hold no data: the API still needs the token', async () => {
    expect((await fetch(`${s.url}/v1/sessions`)).status).toBe(401);
  });

  it('the committed bundle matches the sources (node scripts/build-web.mjs --check)', () => {
    const r = spawnSync(process.execPath, ['scripts/build-web.mjs', '--check'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
