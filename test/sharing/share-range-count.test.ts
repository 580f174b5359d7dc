import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';

// What counts against a share link's max_downloads, as the README documents it: every GET that
// sends content, a Range request (206) included; HEAD and 304 do not.

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => s.close());

describe('share link download counting', () => {
  it('each Range request is one download; HEAD and 304 are none', async () => {
    const put = await s.fetch('/v1/sessions/rc/artifacts/data.txt', {
      method: 'PUT',
      body: '0123456789',
    });
    const { id, sha256 } = (await put.json()) as { id: string; sha256: string };
    const made = await s.fetch(`/v1/artifacts/${id}/share`, {
      method: 'POST',
      body: JSON.stringify({ max_downloads: 2 }),
      headers: { 'Content-Type': 'application/json' },
    });
    const { url } = (await made.json()) as { url: string };

    expect((await fetch(url, { method: 'HEAD' })).status).toBe(200);
    const cached = await fetch(url, { headers: { 'If-None-Match': `"${sha256}"` } });
    expect(cached.status).toBe(304);
    const first = await fetch(url, { headers: { Range: 'bytes=0-4' } });
    expect([first.status, await first.text()]).toEqual([206, '01234']);
    const second = await fetch(url, { headers: { Range: 'bytes=5-9' } });
    expect([second.status, await second.text()]).toEqual([206, '56789']);
    // Two pieces used the two downloads.
    const third = await fetch(url);
    expect(third.status).toBe(410);
    expect(((await third.json()) as { error: { code: string } }).error.code).toBe(
      'share_exhausted',
    );
  });
});
