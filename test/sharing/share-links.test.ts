import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { errorCode, json, open, shareHelpers, type Link } from './share-helpers.js';

// Links to one artifact: download without a token, caps, expiry, revocation, forgery.

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => s.close());
const { push, share, listed1 } = shareHelpers(() => s);

describe('artifact share links', () => {
  it('serve the bytes to a fresh fetch without a token, with type, ETag and disposition', async () => {
    const a = await push('/v1/sessions/sh1/artifacts/report.csv', 'a,b\n1,2\n');
    const link = await share(a.id, { ttl: '1h' });
    expect(link.url.startsWith(`${s.url}/s/cs_`)).toBe(true);
    // 256 random bits, base64url: 43 characters.
    expect(/\/s\/cs_[A-Za-z0-9_-]{43}$/.test(link.url)).toBe(true);
    expect(Date.parse(link.expires_at) - Date.now()).toBeGreaterThan(3_500_000);
    const res = await open(link.url);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('a,b\n1,2\n');
    expect(res.headers.get('content-type')).toBe('text/csv');
    expect(res.headers.get('etag')).toBe(`"${a.sha256}"`);
    expect(res.headers.get('content-disposition')).toBe("inline; filename*=UTF-8''report.csv");
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
  });

  it('honour Range (206), If-None-Match (304) and HEAD; only GETs with content count', async () => {
    const a = await push('/v1/sessions/sh2/artifacts/data.bin', '0123456789');
    const link = await share(a.id);
    const part = await open(link.url, { headers: { Range: 'bytes=2-5' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe('bytes 2-5/10');
    expect(await part.text()).toBe('2345');
    const cached = await open(link.url, { headers: { 'If-None-Match': `"${a.sha256}"` } });
    expect(cached.status).toBe(304);
    const head = await open(link.url, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe('10');
    expect(await head.text()).toBe('');
    const listed = await listed1(link.id);
    expect(listed.downloads).toBe(1);
    expect(listed.last_access_at).not.toBeNull();
  });

  it.each([
    ['page.html', 'text/html', '<script>alert(1)</script>'],
    ['logo.svg', 'image/svg+xml', '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'],
    ['feed.xml', 'application/xml', '<a/>'],
    ['app.js', 'text/javascript', 'alert(1)'],
  ])('serve active content (%s) as an attachment under CSP sandbox', async (name, type, body) => {
    const a = await push(`/v1/sessions/sh3/artifacts/${name}`, body, type);
    const res = await open((await share(a.id)).url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toMatch(/^attachment;/);
    expect(res.headers.get('content-security-policy')).toMatch(/^sandbox/);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await res.text()).toBe(body);
  });

  it('a download cap lets exactly N concurrent downloads through, then 410', async () => {
    const a = await push('/v1/sessions/sh4/artifacts/once.txt', 'limited');
    const link = await share(a.id, { max_downloads: 2 });
    const answers = await Promise.all(
      Array.from({ length: 6 }, async () => {
        const r = await open(link.url);
        return { status: r.status, body: await r.text() };
      }),
    );
    expect(answers.filter((r) => r.status === 200).map((r) => r.body)).toEqual([
      'limited',
      'limited',
    ]);
    expect(answers.filter((r) => r.status === 410)).toHaveLength(4);
    const again = await open(link.url);
    expect(again.status).toBe(410);
    expect(await errorCode(again)).toBe('share_exhausted');
    expect(await listed1(link.id)).toMatchObject({ downloads: 2, status: 'exhausted' });
  });

  it('expires for real (ttl 1s): 410 share_expired', async () => {
    const a = await push('/v1/sessions/sh5/artifacts/brief.txt', 'brief');
    const link = await share(a.id, { ttl: '1s' });
    expect((await open(link.url)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1100));
    const res = await open(link.url);
    expect(res.status).toBe(410);
    expect(await errorCode(res)).toBe('share_expired');
    expect((await listed1(link.id)).status).toBe('expired');
  });

  it('revoked: 410 share_revoked; revoking is idempotent; unknown id 404', async () => {
    const a = await push('/v1/sessions/sh6/artifacts/r.txt', 'revocable');
    const link = await share(a.id);
    const del = await s.fetch(`/v1/shares/${link.id}`, { method: 'DELETE' });
    expect(del.status).toBe(200);
    expect(((await del.json()) as Link).status).toBe('revoked');
    const res = await open(link.url);
    expect(res.status).toBe(410);
    expect(await errorCode(res)).toBe('share_revoked');
    expect((await s.fetch(`/v1/shares/${link.id}`, { method: 'DELETE' })).status).toBe(200);
    expect((await s.fetch('/v1/shares/sh_nope', { method: 'DELETE' })).status).toBe(404);
  });

  it('forged, tampered or truncated tokens are 404, not 410', async () => {
    const a = await push('/v1/sessions/sh7/artifacts/f.txt', 'forge me');
    const link = await share(a.id);
    const token = link.url.split('/s/')[1];
    const tampered = token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A');
    const forged = `cs_${randomBytes(32).toString('base64url')}`;
    for (const t of [tampered, forged, token.slice(0, 20), 'x', encodeURIComponent('../v1')]) {
      const res = await open(`${s.url}/s/${t}`);
      expect(res.status).toBe(404);
      expect(await errorCode(res)).toBe('not_found');
    }
  });

  it('a link whose artifact was deleted or expired answers 410 share_target_gone', async () => {
    const a = await push('/v1/sessions/sh8/artifacts/d.txt', 'doomed');
    const link = await share(a.id);
    await s.fetch(`/v1/artifacts/${a.id}`, { method: 'DELETE' });
    const res = await open(link.url);
    expect(res.status).toBe(410);
    expect(await errorCode(res)).toBe('share_target_gone');
    const b = await push('/v1/sessions/sh8/artifacts/e.txt?ttl=1s', 'expiring');
    const link2 = await share(b.id);
    await new Promise((r) => setTimeout(r, 1100));
    expect((await open(link2.url)).status).toBe(410);
  });

  it('the list shows counts and status but never the secret or its hash', async () => {
    const a = await push('/v1/sessions/sh9/artifacts/l.txt', 'listed');
    const link = await share(a.id, { max_downloads: 5 });
    const token = link.url.split('/s/')[1];
    const text = await (await s.fetch('/v1/shares')).text();
    expect(text).not.toContain(token);
    expect(text).not.toContain(createHash('sha256').update(token).digest('hex'));
    expect(await listed1(link.id)).toMatchObject({
      kind: 'artifact',
      session: 'sh9',
      name: 'l.txt',
      max_downloads: 5,
      downloads: 0,
      status: 'active',
    });
  });

  it('rejects bad options with a 400 and needs a write token', async () => {
    const a = await push('/v1/sessions/sh10/artifacts/o.txt', 'opts');
    const post = (body: unknown, headers: Record<string, string> = {}) =>
      s.fetch(`/v1/artifacts/${a.id}/share`, {
        method: 'POST',
        body: JSON.stringify(body),
        headers: { 'Content-Type': 'application/json', ...headers },
      });
    expect(await errorCode(await post({ max_downloads: 0 }))).toBe('invalid_max_downloads');
    expect(await errorCode(await post({ max_downloads: 1.5 }))).toBe('invalid_max_downloads');
    expect(await errorCode(await post({ ttl: 'soon' }))).toBe('invalid_duration');
    expect(await errorCode(await post({ ttl: 5 }))).toBe('invalid_duration');
    expect(await errorCode(await post({ expires: '1h' }))).toBe('invalid_request');
    const token = async (scope: string, sessions?: string) =>
      (
        (await (
          await s.fetch('/v1/tokens', { method: 'POST', ...json({ scope, sessions }) })
        ).json()) as { token: string }
      ).token;
    const read = await post({}, { Authorization: `Bearer ${await token('read')}` });
    expect(read.status).toBe(403);
    // To a token limited to run_*, an artifact of another session does not exist.
    const elsewhere = await post({}, { Authorization: `Bearer ${await token('write', 'run_*')}` });
    expect(elsewhere.status).toBe(404);
    const none = await fetch(`${s.url}/v1/artifacts/${a.id}/share`, { method: 'POST' });
    expect(none.status).toBe(401);
    expect(
      (await s.fetch('/v1/artifacts/a_01J00000000000000000000000/share', { method: 'POST' }))
        .status,
    ).toBe(404);
  });
});
