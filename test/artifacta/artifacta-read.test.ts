import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startArtifactaTestServer, type ArtifactaTestServer } from '../helpers/artifacta.js';
import { ArtifactaClient, type Rec } from './artifacta-client.js';

let s: ArtifactaTestServer;
let client: ArtifactaClient;
let now = Date.parse('2026-06-01T12:00:00Z');
const recs: Rec[] = [];

beforeAll(async () => {
  s = await startArtifactaTestServer({}, { clock: () => now });
  client = new ArtifactaClient(s.aUrl, s.key);
  for (let i = 0; i < 7; i++) {
    now += 1000;
    const r = await client.store({
      filename: `f${i}.txt`,
      content: `content ${i}`,
      session_id: i < 5 ? 'list_a' : 'list_b',
      agent_id: i % 2 ? 'odd' : 'even',
      metadata: { n: String(i), group: i < 3 ? 'low' : 'high' },
    });
    recs.push(r.body as Rec);
  }
});
afterAll(async () => s.close());

describe('list', () => {
  it('pages newest first with {artifacts, next_cursor, has_more}', async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    for (;;) {
      const r = await client.list({ limit: '3', ...(cursor ? { cursor } : {}) });
      expect(r.status).toBe(200);
      expect(Object.keys(r.body).sort()).toEqual(['artifacts', 'has_more', 'next_cursor']);
      seen.push(...(r.body.artifacts ?? []).map((a) => a.artifact_id));
      if (!r.body.has_more) {
        expect(r.body.next_cursor).toBeNull();
        break;
      }
      cursor = String(r.body.next_cursor);
    }
    expect(seen).toEqual(recs.map((r) => r.artifact_id).reverse());
  });

  it('filters: session_id, agent_id, filename (exact), content_type, metadata.*, created_*', async () => {
    const ids = async (q: Record<string, string>) =>
      ((await client.list(q)).body.artifacts ?? []).map((a) => a.filename);
    expect(await ids({ session_id: 'list_b' })).toEqual(['f6.txt', 'f5.txt']);
    expect(await ids({ agent_id: 'odd', session_id: 'list_a' })).toEqual(['f3.txt', 'f1.txt']);
    expect(await ids({ filename: 'f2.txt' })).toEqual(['f2.txt']);
    expect(await ids({ filename: 'f*.txt' })).toEqual([]);
    expect(await ids({ content_type: 'text/plain', session_id: 'list_b' })).toEqual([
      'f6.txt',
      'f5.txt',
    ]);
    expect(await ids({ 'metadata.group': 'low', 'metadata.n': '1' })).toEqual(['f1.txt']);
    expect(
      await ids({ created_after: recs[4].created_at, created_before: recs[6].created_at }),
    ).toEqual(['f5.txt', 'f4.txt']);
  });

  it('refuses a bad limit or an unknown parameter with invalid_request', async () => {
    const bad: Record<string, string>[] = [{ limit: '0' }, { limit: '201' }, { sesion_id: 'x' }];
    for (const q of bad) {
      const r = await client.list(q);
      expect(r.status).toBe(400);
      expect(r.body.error?.code).toBe('invalid_request');
    }
  });
});

describe('get, download, delete', () => {
  it('get answers the record; an unknown id is 404 artifact_not_found', async () => {
    const r = await client.get(recs[0].artifact_id);
    expect(r.status).toBe(200);
    expect(r.body).toEqual(recs[0]);
    const missing = await client.get('art_AAAAAAAAAAAAAAAA');
    expect(missing.status).toBe(404);
    expect(missing.body.error).toEqual({
      code: 'artifact_not_found',
      message: expect.stringContaining('art_AAAAAAAAAAAAAAAA') as string,
      status: 404,
    });
  });

  it('the download URL works without a token for 3600 s', async () => {
    const r = await client.downloadUrl(recs[1].artifact_id);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      expires_in: 3600,
      filename: 'f1.txt',
      content_type: 'text/plain',
      size_bytes: 9,
    });
    const url = String(r.body.download_url);
    expect(url.startsWith(s.aUrl)).toBe(true);
    const got = await client.download(url);
    expect(got.status).toBe(200);
    expect(got.bytes.toString()).toBe('content 1');
    expect(got.headers.get('x-content-type-options')).toBe('nosniff');
    now += 3601_000;
    expect((await client.download(url)).status).toBe(410);
  });

  it('delete answers {artifact_id, deleted, deleted_at}; again 410 artifact_already_deleted', async () => {
    const id = recs[2].artifact_id;
    const first = await client.delete(id);
    expect(first.status).toBe(200);
    expect(first.body).toEqual({
      artifact_id: id,
      deleted: true,
      deleted_at: new Date(now).toISOString(),
    });
    const again = await client.delete(id);
    expect(again.status).toBe(410);
    expect(again.body.error?.code).toBe('artifact_already_deleted');
    expect(again.ok).toBe(true);
    expect((await client.get(id)).body.error?.code).toBe('artifact_already_deleted');
    // Gone from Cairn too.
    expect((await s.fetch(`/v1/artifacts/${recs[2].cairn_id}`)).status).toBe(404);
  });

  it('an artifact past its TTL is 410 artifact_expired; extend-ttl moves its expiry', async () => {
    const r = await client.store({
      filename: 'short.txt',
      content: 's',
      session_id: 'ttl',
      ttl: '1h',
    });
    const id = String(r.body.artifact_id);
    const extended = await client.extendTtl(id, '2h');
    expect(extended.status).toBe(200);
    expect(extended.body.expires_at).toBe(new Date(now + 2 * 3_600_000).toISOString());
    now += 3 * 3_600_000;
    const gone = await client.get(id);
    expect(gone.status).toBe(410);
    expect(gone.body.error?.code).toBe('artifact_expired');
    expect((await client.extendTtl(id, '1d')).body.error?.code).toBe('artifact_expired');
  });

  it('extend-ttl never clears the expiry; without ttl it is invalid_request', async () => {
    const r = await client.store({ filename: 'k.txt', content: 'k', session_id: 'ttl', ttl: '1h' });
    const id = String(r.body.artifact_id);
    expect((await client.extendTtl(id, 'never')).body.expires_at).toBeNull();
    const none = await client.call('POST', `/v1/artifacts/${id}/extend-ttl`);
    expect(none.status).toBe(400);
    expect(none.body.error?.code).toBe('invalid_request');
  });
});

describe('links', () => {
  it('a new lnk_ link per call, expiring as asked, usable without a token', async () => {
    const id = recs[3].artifact_id;
    const a = await client.link(id, 60);
    const b = await client.link(id);
    expect(a.status).toBe(201);
    expect(a.body.link_id).toMatch(/^lnk_[A-Za-z0-9]{20}$/);
    expect(b.body.link_id).not.toBe(a.body.link_id);
    expect(a.body).toMatchObject({
      artifact_id: id,
      created_at: new Date(now).toISOString(),
      expires_at: new Date(now + 60_000).toISOString(),
    });
    expect(b.body.expires_at).toBe(new Date(now + 604_800_000).toISOString());
    expect((await client.download(String(a.body.url))).bytes.toString()).toBe('content 3');
    const tooLong = await client.link(id, 7_776_001);
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.error?.code).toBe('invalid_request');
  });
});
