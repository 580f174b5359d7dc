import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startArtifactaTestServer, type ArtifactaTestServer } from '../helpers/artifacta.js';
import { ArtifactaClient } from './artifacta-client.js';

let s: ArtifactaTestServer;
let client: ArtifactaClient;
let now = Date.parse('2026-06-01T12:00:00Z');

beforeAll(async () => {
  s = await startArtifactaTestServer({}, { clock: () => now });
  client = new ArtifactaClient(s.aUrl, s.key);
});
afterAll(async () => s.close());

describe('sessions and seal', () => {
  it('lists by most recent activity, paged with after', async () => {
    for (const sid of ['ses_one', 'ses_two', 'ses_three']) {
      now += 1000;
      await client.store({ filename: 'a.txt', content: sid, session_id: sid });
    }
    now += 1000;
    // Activity in the oldest moves it first.
    await client.store({ filename: 'b.txt', content: 'more', session_id: 'ses_one' });
    const first = await client.sessions({ limit: '2' });
    expect(first.status).toBe(200);
    expect(first.body.sessions?.map((x) => x.session_id)).toEqual(['ses_one', 'ses_three']);
    expect(first.body.has_more).toBe(true);
    expect(first.body.sessions?.[0]).toMatchObject({
      artifact_count: 2,
      is_sealed: false,
      first_artifact_at: new Date(now - 3000).toISOString(),
      last_artifact_at: new Date(now).toISOString(),
    });
    const rest = await client.sessions({ limit: '2', after: String(first.body.next_cursor) });
    expect(rest.body.sessions?.map((x) => x.session_id)).toEqual(['ses_two']);
    expect(rest.body).toMatchObject({ has_more: false, next_cursor: null });
    const created = await client.sessions({
      created_after: new Date(now - 2500).toISOString(),
      created_before: new Date(now - 500).toISOString(),
    });
    expect(created.body.sessions?.map((x) => x.session_id)).toEqual(['ses_three', 'ses_two']);
    expect((await client.sessions({ after: 'garbage' })).body.error?.code).toBe('invalid_request');
  });

  it("seal is Cairn's signed seal, idempotent; unknown sessions are 404 session_not_found", async () => {
    now += 1000;
    const a = await client.seal('ses_two');
    expect(a.status).toBe(200);
    expect(a.body).toMatchObject({
      session_id: 'ses_two',
      status: 'sealed',
      sealed_at: new Date(now).toISOString(),
      artifact_count: 1,
    });
    now += 1000;
    const b = await client.seal('ses_two');
    expect(b.body.sealed_at).toBe(a.body.sealed_at);
    const cairn = (await (await s.fetch('/v1/sessions/ses_two')).json()) as {
      sealed: boolean;
      digest: string;
      signature: string;
    };
    expect(cairn.sealed).toBe(true);
    expect(cairn.signature).toBeTruthy();
    expect(a.body.digest).toBe(cairn.digest);
    const listed = await client.sessions();
    expect(listed.body.sessions?.find((x) => x.session_id === 'ses_two')?.is_sealed).toBe(true);
    for (const sid of ['ses_none', 'bad%20id']) {
      const missing = await client.seal(sid);
      expect(missing.status).toBe(404);
      expect(missing.body.error?.code).toBe('session_not_found');
    }
  });
});

describe('whoami', () => {
  it('reports the key, its requests this month and the bytes stored', async () => {
    const r = await client.whoami();
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      tenant_name: 'artifacta admin',
      plan: 'self-hosted',
      api_key_last_4: s.key.slice(-4),
    });
    const counts = await s.app.catalog.stats.counts();
    expect(r.body.usage_storage_bytes).toBe(counts.artifactBytes);
    expect(r.body.usage_storage_bytes).toBeGreaterThan(0);
    expect(Number(r.body.plan_storage_limit_bytes)).toBeGreaterThan(
      Number(r.body.usage_storage_bytes),
    );
    const before = Number(r.body.usage_requests_month);
    expect(before).toBeGreaterThan(5);
    await client.list();
    expect((await client.whoami()).body.usage_requests_month).toBe(before + 2);
  });
});

describe('two-phase upload', () => {
  it('upload-url, PUT with exactly upload_headers, then complete (idempotent)', async () => {
    const bytes = Buffer.from('two phase bytes');
    const u = await client.uploadUrl({
      filename: 'big.bin',
      content_type: 'application/x-thing',
      size_bytes: bytes.length,
      session_id: 'ses_tp',
      metadata: { big: 'yes' },
    });
    expect(u.status).toBe(201);
    expect(u.body).toMatchObject({ status: 'pending', upload_method: 'PUT' });
    const id = String(u.body.artifact_id);
    expect(id).toMatch(/^art_[A-Za-z0-9]{16}$/);
    const early = await client.complete(id);
    expect(early.status).toBe(400);
    expect(early.body.error?.code).toBe('upload_not_found');
    const url = String(u.body.upload_url);
    expect(url.startsWith(s.aUrl)).toBe(true);
    const denied = await fetch(url, { method: 'PUT', body: bytes });
    expect(denied.status).toBe(403);
    const put = await fetch(url, { method: 'PUT', headers: u.body.upload_headers, body: bytes });
    expect(put.status).toBe(200);
    const twice = await fetch(url, { method: 'PUT', headers: u.body.upload_headers, body: bytes });
    expect(twice.status).toBe(409);
    const done = await client.complete(id);
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({
      artifact_id: id,
      filename: 'big.bin',
      content_type: 'application/x-thing',
      size_bytes: bytes.length,
      session_id: 'ses_tp',
      metadata: { big: 'yes' },
    });
    expect((await client.complete(id)).body).toEqual(done.body);
    expect((await client.get(id)).body).toEqual(done.body);
    const listed = await client.list({ session_id: 'ses_tp' });
    expect(listed.body.artifacts?.map((a) => a.artifact_id)).toEqual([id]);
  });

  it('a PUT of another size stores nothing', async () => {
    const u = await client.uploadUrl({ filename: 'x.bin', size_bytes: 10, session_id: 'ses_tp2' });
    const put = await fetch(String(u.body.upload_url), {
      method: 'PUT',
      headers: u.body.upload_headers,
      body: 'short',
    });
    expect(put.status).toBe(400);
    expect((await client.complete(String(u.body.artifact_id))).body.error?.code).toBe(
      'upload_not_found',
    );
    const bad = await client.uploadUrl({ filename: 'x.bin', size_bytes: 0 });
    expect(bad.body.error?.code).toBe('invalid_request');
  });
});

describe('publish', () => {
  it('a public read-only page, safe, whose URL survives republishing; unpublish ends it', async () => {
    const r = await client.store({
      filename: 'page.html',
      content: '<script>alert(1)</script>',
      session_id: 'ses_pub',
    });
    const id = String(r.body.artifact_id);
    const p = await client.publish(id, { visibility: 'public', access: 'none', title: 'T' });
    expect(p.status).toBe(200);
    expect(p.body).toMatchObject({ visibility: 'public', access: 'none' });
    expect(String(p.body.page_id)).toMatch(/^pg_/);
    const again = await client.publish(id);
    expect(again.body.public_url).toBe(p.body.public_url);
    expect(again.body.page_id).toBe(p.body.page_id);
    const page = await fetch(String(p.body.public_url));
    expect(page.status).toBe(200);
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(page.headers.get('content-security-policy')).toMatch(/sandbox/);
    expect(page.headers.get('content-disposition')).toMatch(/^attachment/);
    expect(await page.text()).toBe('<script>alert(1)</script>');
    const un = await client.unpublish(id);
    expect(un.body).toEqual({ page_id: p.body.page_id, unpublished: true });
    expect((await fetch(String(p.body.public_url))).status).toBe(404);
    expect((await client.unpublish(id)).body).toEqual({ page_id: null, unpublished: true });
    const bad = await client.publish(id, { visibility: 'private', access: 'none' });
    expect(bad.body.error?.code).toBe('invalid_request');
  });
});
