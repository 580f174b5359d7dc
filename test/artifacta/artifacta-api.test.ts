import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startArtifactaTestServer, type ArtifactaTestServer } from '../helpers/artifacta.js';
import { ArtifactaClient } from './artifacta-client.js';

let s: ArtifactaTestServer;
let client: ArtifactaClient;
const ART = /^art_[A-Za-z0-9]{16}$/;
const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

beforeAll(async () => {
  s = await startArtifactaTestServer();
  // A path prefix is dropped, as the TypeScript client does.
  client = new ArtifactaClient(`${s.aUrl}/some/prefix`, s.key);
});
afterAll(async () => s.close());

describe('keys', () => {
  it('mints ak_live_ + 32 alphanumerics, usable on both listeners', async () => {
    expect(s.key).toMatch(/^ak_live_[A-Za-z0-9]{32}$/);
    const cairn = await fetch(`${s.url}/v1/artifacts`, {
      headers: { Authorization: `Bearer ${s.key}` },
    });
    expect(cairn.status).toBe(200);
  });

  it('health needs no key', async () => {
    const res = await fetch(`${s.aUrl}/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('a missing or unknown key is 401 unauthorized in the envelope', async () => {
    const res = await fetch(`${s.aUrl}/v1/whoami`, {
      headers: { 'Content-Type': 'application/json' },
    });
    expect(res.status).toBe(401);
    const body = (await res.json()) as { error: { code: string; message: string; status: number } };
    expect(Object.keys(body)).toEqual(['error']);
    expect(body.error.code).toBe('unauthorized');
    expect(body.error.status).toBe(401);
    expect(body.error.message).toMatch(/Bearer/);
    const forged = new ArtifactaClient(s.aUrl, `ak_live_${'A'.repeat(32)}`);
    const denied = await forged.whoami();
    expect(denied.status).toBe(401);
    expect(denied.body.error?.message).toContain('ARTIFACTA_API_KEY');
    const nowhere = await client.call('GET', '/v2/whatever');
    expect(nowhere.status).toBe(404);
    expect(nowhere.body.error?.code).toBe('route_not_found');
  });
});

describe('uploads', () => {
  it('JSON/base64: the record has the spec shape, art_ id, hash, metadata and ttl', async () => {
    const r = await client.store({
      filename: 'report.md',
      content: '# hello',
      session_id: 'ses_abcdefabcdef',
      agent_id: 'agent-7',
      metadata: { stage: 'qa', userId: 'u1' },
      ttl: '7d',
    });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    const rec = r.body;
    expect(rec.artifact_id).toMatch(ART);
    expect(rec).toMatchObject({
      filename: 'report.md',
      content_type: 'text/markdown',
      size_bytes: 7,
      content_hash: sha('# hello'),
      session_id: 'ses_abcdefabcdef',
      agent_id: 'agent-7',
      metadata: { stage: 'qa', userId: 'u1' },
    });
    expect(rec).not.toHaveProperty('tenant_id');
    expect(rec).not.toHaveProperty('deleted_at');
    expect(Date.parse(String(rec.expires_at)) - Date.parse(String(rec.created_at))).toBe(
      7 * 86_400_000,
    );
    // The same artifact through Cairn's own API; a capital in a key is stored as `.x`.
    const cairn = (await (await s.fetch(`/v1/artifacts/${rec.cairn_id}`)).json()) as {
      meta: object;
      session: string;
    };
    expect(cairn.session).toBe('ses_abcdefabcdef');
    expect(cairn.meta).toEqual({ stage: 'qa', 'user.id': 'u1', agent_id: 'agent-7' });
  });

  it('without a session, the record has session_id null; never means no expiry', async () => {
    const r = await client.store({ filename: 'a.txt', content: 'x', ttl: 'never' });
    expect(r.status).toBe(201);
    expect(r.body.session_id).toBeNull();
    expect(r.body.expires_at).toBeNull();
    expect(r.body.agent_id).toBeNull();
  });

  it('Idempotency-Key: a replay answers the same artifact and stores nothing new', async () => {
    const key = `mcp_${crypto.randomUUID()}`;
    const a = await client.store(
      { filename: 'idem.txt', content: 'once', session_id: 'idem' },
      key,
    );
    const b = await client.store(
      { filename: 'idem.txt', content: 'once', session_id: 'idem' },
      key,
    );
    expect(b.status).toBe(201);
    expect(b.body).toEqual(a.body);
    const listed = await client.list({ session_id: 'idem' });
    expect(listed.body.artifacts).toHaveLength(1);
  });

  it('multipart streamed chunked: metadata as a JSON string, content_type field wins', async () => {
    const chunks = [Buffer.alloc(70_000, 'a'), Buffer.from('\r\n--'), Buffer.alloc(70_000, 'b')];
    const r = await client.storeMultipart(
      {
        filename: 'data.csv',
        content_type: 'text/csv',
        session_id: 'mp_1',
        agent_id: 'bot',
        ttl: '30d',
        metadata: { kind: 'table' },
      },
      chunks,
    );
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(r.chunked).toBe(true);
    expect(r.body).toMatchObject({
      filename: 'data.csv',
      content_type: 'text/csv',
      size_bytes: 140_004,
      content_hash: sha(Buffer.concat(chunks)),
      session_id: 'mp_1',
      agent_id: 'bot',
      metadata: { kind: 'table' },
    });
    const bytes = Buffer.from(
      await (await s.fetch(`/v1/artifacts/${r.body.cairn_id}/content`)).arrayBuffer(),
    );
    expect(bytes.equals(Buffer.concat(chunks))).toBe(true);
  });

  it('multipart without content_type guesses from the name, not the part', async () => {
    const r = await client.storeMultipart({ filename: 'x.json', session_id: 'mp_1' }, [
      Buffer.from('{}'),
    ]);
    expect(r.status).toBe(201);
    expect(r.body.content_type).toBe('application/json');
  });

  it('missing file is 400 invalid_request naming it; bad metadata is invalid_request', async () => {
    const r = await client.call('POST', '/v1/artifacts', { filename: 'a.txt' });
    expect(r.status).toBe(400);
    expect(r.body.error).toEqual({
      code: 'invalid_request',
      message: "Missing required field 'content'",
      status: 400,
    });
    const noPart = await fetch(`${s.aUrl}/v1/artifacts`, {
      method: 'POST',
      headers: {
        Authorization: `Bearer ${s.key}`,
        'Content-Type': 'multipart/form-data; boundary=XyZ',
      },
      body: '--XyZ\r\nContent-Disposition: form-data; name="filename"\r\n\r\na.txt\r\n--XyZ--\r\n',
    });
    expect(noPart.status).toBe(400);
    expect(((await noPart.json()) as { error: object }).error).toEqual({
      code: 'invalid_request',
      message: "Missing required field 'file'",
      status: 400,
    });
    const truncated = await fetch(`${s.aUrl}/v1/artifacts`, {
      method: 'POST',
      headers: {
        Authorization: `Bearer ${s.key}`,
        'Content-Type': 'multipart/form-data; boundary=XyZ',
      },
      body: '--XyZ\r\nContent-Disposition: form-data; name="filename"\r\n\r\nt.txt\r\n--XyZ\r\nContent-Disposition: form-data; name="file"\r\n\r\nabc',
    });
    expect(truncated.status).toBe(400);
    expect((await client.list({ filename: 't.txt' })).body.artifacts).toEqual([]);
    const bad = await client.store({ filename: 'a.txt', content: 'x', metadata: { '1bad': 'v' } });
    expect(bad.status).toBe(400);
    expect(bad.body.error?.code).toBe('invalid_request');
    for (const filename of ['../escape.txt', 'a\\b', '', 'x'.repeat(256)]) {
      const named = await client.store({ filename, content: 'x' });
      expect(named.status, filename).toBe(400);
      expect(named.body.error?.code).toBe('invalid_request');
    }
    const badSession = await client.store({ filename: 'a.txt', content: 'x', session_id: 'a b' });
    expect(badSession.body.error?.code).toBe('invalid_request');
    const notBase64 = await client.call('POST', '/v1/artifacts', { filename: 'a', content: '%%' });
    expect(notBase64.body.error?.code).toBe('invalid_request');
    const empty = await client.storeMultipart({ filename: 'a.txt' }, []);
    expect(empty.status).toBe(201);
    expect(empty.body.size_bytes).toBe(0);
  });

  it('metadata keys a client may send round-trip, a leading capital included; filters find them', async () => {
    const metadata = { Author: 'ann', runId: 'r1', URL: 'u', x: 'y' };
    const r = await client.store({ filename: 'keys.txt', content: 'k', metadata });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(r.body.metadata).toEqual(metadata);
    const found = await client.list({ 'metadata.Author': 'ann', 'metadata.URL': 'u' });
    expect((found.body.artifacts ?? []).map((a) => a.filename)).toEqual(['keys.txt']);
    // Each capital takes two characters in Cairn: a key of 64 with many of them cannot fit.
    const long = await client.store({
      filename: 'k2.txt',
      content: 'k',
      metadata: { ['a' + 'B'.repeat(63)]: 'v' },
    });
    expect(long.status).toBe(400);
    expect(long.body.error?.message).toContain('capital');
  });

  it('a content_type that is not a media type is 400 invalid_request on every upload, nothing stored', async () => {
    for (const type of ['text/html\r\nX-Evil: 1', 'nonsense', `text/${'a'.repeat(300)}`]) {
      const json = await client.store({ filename: 'ct.txt', content: 'x', content_type: type });
      expect(json.status, type).toBe(400);
      expect(json.body.error?.code).toBe('invalid_request');
      const url = await client.uploadUrl({ filename: 'ct.txt', size_bytes: 1, content_type: type });
      expect(url.status, type).toBe(400);
    }
    // A multipart field cannot carry CR/LF: the other two there.
    for (const type of ['nonsense', `text/${'a'.repeat(300)}`]) {
      const mp = await client.storeMultipart({ filename: 'ct.txt', content_type: type }, [
        Buffer.from('x'),
      ]);
      expect(mp.status, type).toBe(400);
    }
    expect((await client.list({ filename: 'ct.txt' })).body.artifacts).toEqual([]);
  });

  it('a sealed session refuses uploads: 409 session_sealed', async () => {
    await client.store({ filename: 'a.txt', content: 'x', session_id: 'sealed_1' });
    expect((await client.seal('sealed_1')).status).toBe(200);
    const r = await client.store({ filename: 'b.txt', content: 'y', session_id: 'sealed_1' });
    expect(r.status).toBe(409);
    expect(r.body.error?.code).toBe('session_sealed');
    const m = await client.storeMultipart({ filename: 'b.txt', session_id: 'sealed_1' }, [
      Buffer.alloc(200_000),
    ]);
    expect(m.status).toBe(409);
    expect(m.body.error?.code).toBe('session_sealed');
  });
});
