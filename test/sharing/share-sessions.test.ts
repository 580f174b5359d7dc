import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { errorCode, json, open, shareHelpers, untar, type Link } from './share-helpers.js';

// Links to a whole session (served as a tar), and the server settings that shape every link.

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => s.close());
const { push, listed1 } = shareHelpers(() => s);

describe('session share links', () => {
  it('serve the whole session as a tar to a fresh fetch', async () => {
    await push('/v1/sessions/shs/artifacts/a.txt', 'alpha');
    await push('/v1/sessions/shs/artifacts/dir/b.json', '{"b":1}');
    await s.fetch('/v1/sessions/shs/seal', { method: 'POST' });
    const res = await s.fetch('/v1/sessions/shs/share', { method: 'POST', ...json({ ttl: '1h' }) });
    expect(res.status).toBe(201);
    const link = (await res.json()) as Link;
    const got = await open(link.url);
    expect(got.status).toBe(200);
    expect(got.headers.get('content-type')).toBe('application/x-tar');
    const entries = await untar(Buffer.from(await got.arrayBuffer()));
    expect(entries.get('files/a.txt')).toBe('alpha');
    expect(entries.get('files/dir/b.json')).toBe('{"b":1}');
    expect([...entries.keys()].some((k) => k.endsWith('.json') && !k.startsWith('files/'))).toBe(
      true,
    );
    expect((await listed1(link.id)).downloads).toBe(1);
  });

  it('410 once the session is gone, also when a new session reuses its id', async () => {
    await push('/v1/sessions/shx/artifacts/a.txt', 'x');
    const link = (await (
      await s.fetch('/v1/sessions/shx/share', { method: 'POST', ...json({}) })
    ).json()) as Link;
    expect((await s.fetch('/v1/sessions/shx', { method: 'DELETE' })).status).toBe(200);
    await push('/v1/sessions/shx/artifacts/a.txt', 'someone else');
    const res = await open(link.url);
    expect(res.status).toBe(410);
    expect(await errorCode(res)).toBe('share_target_gone');
    expect((await s.fetch('/v1/sessions/nosuch/share', { method: 'POST' })).status).toBe(404);
  });
});

describe('server settings', () => {
  it('--max-share-ttl caps every link; --public-url builds the URL', async () => {
    const t = await startTestServer({
      maxShareTtlMs: 60_000,
      publicUrl: 'https://cairn.example.org/store/',
    });
    try {
      await t.fetch('/v1/sessions/cap/artifacts/a.txt', { method: 'PUT', body: 'cap' });
      const res = await t.fetch('/v1/sessions/cap/share', {
        method: 'POST',
        ...json({ ttl: '30d' }),
      });
      const link = (await res.json()) as Link;
      expect(Date.parse(link.expires_at) - Date.now()).toBeLessThanOrEqual(60_000);
      expect(Date.parse(link.expires_at) - Date.now()).toBeGreaterThan(50_000);
      expect(link.url).toMatch(/^https:\/\/cairn\.example\.org\/store\/s\/cs_/);
      const local = `${t.url}/s/${link.url.split('/s/')[1]}`;
      expect((await open(local)).status).toBe(200);
    } finally {
      await t.close();
    }
  });
});
