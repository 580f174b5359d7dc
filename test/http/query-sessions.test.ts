import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/lib/canonical-json.js';
import { verifySeal } from '../../src/core/signer.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let s: TestServer;
const ids: Record<string, string> = {};
const push = async (path: string, body: string, type?: string) => {
  const res = await s.fetch(path, {
    method: 'PUT',
    body: Buffer.from(body),
    headers: type ? { 'Content-Type': type } : {},
  });
  expect(res.status).toBe(201);
  return (await res.json()) as { id: string; created_at: string };
};
const items = async (qs: string) => {
  const res = await s.fetch(`/v1/artifacts?${qs}`);
  expect(res.status).toBe(200);
  return ((await res.json()) as { items: { id: string }[] }).items.map((a) => a.id);
};

beforeAll(async () => {
  s = await startTestServer();
  ids.a = (
    await push('/v1/sessions/q1/artifacts/r/a.json?meta.agent=claude&meta.pipeline=billing', '{}')
  ).id;
  ids.b = (
    await push('/v1/sessions/q1/artifacts/r/b.png?meta.agent=claude-2&meta.pipeline=billing', 'png')
  ).id;
  ids.c = (await push('/v1/sessions/q2/artifacts/c.txt?meta.agent=gpt', 'c')).id;
  ids.c2 = (await push('/v1/sessions/q2/artifacts/c.txt?meta.agent=gpt', 'c v2')).id;
});
afterAll(async () => s.close());

describe('GET /v1/artifacts', () => {
  it.each([
    ['', ['c2', 'c', 'b', 'a']],
    ['session=q1', ['b', 'a']],
    ['meta.agent=claude&meta.pipeline=billing', ['a']],
    ['meta.agent=claude*', ['b', 'a']],
    ['meta.pipeline', ['b', 'a']],
    ['type=image/*', ['b']],
    ['type=application/json', ['a']],
    ['name=r/*', ['b', 'a']],
    ['name=*.txt&latest=true', ['c2']],
    [`where=${encodeURIComponent("agent in ('gpt','claude') and not name ~ '*.txt'")}`, ['a']],
  ])('?%s', async (qs, expected) => {
    expect(await items(qs)).toEqual(expected.map((k) => ids[k]));
  });

  it('filters by time (since/until) and pages with next_cursor', async () => {
    const first = (await (await s.fetch(`/v1/artifacts/${ids.a}`)).json()) as {
      created_at: string;
    };
    expect(await items(`since=${encodeURIComponent(first.created_at)}&limit=1000`)).toContain(
      ids.a,
    );
    expect(await items(`until=${encodeURIComponent(first.created_at)}`)).toEqual([]);
    expect(await items('since=1h')).toHaveLength(4);
    const p1 = (await (await s.fetch('/v1/artifacts?limit=3')).json()) as {
      items: { id: string }[];
      next_cursor: string;
    };
    expect(p1.items).toHaveLength(3);
    const p2 = (await (await s.fetch(`/v1/artifacts?limit=3&cursor=${p1.next_cursor}`)).json()) as {
      items: { id: string }[];
      next_cursor: null;
    };
    expect(p2.items.map((a) => a.id)).toEqual([ids.a]);
    expect(p2.next_cursor).toBeNull();
  });
});

describe('sessions', () => {
  it('creates explicitly with meta and ttl, and lists by meta and sealed state', async () => {
    const res = await s.fetch('/v1/sessions', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ id: 'explicit', meta: { team: 'ml' }, ttl: '7d' }),
    });
    expect(res.status).toBe(201);
    const rec = (await res.json()) as { expires_at: string; meta: object; sealed: boolean };
    expect(rec.meta).toEqual({ team: 'ml' });
    expect(rec.sealed).toBe(false);
    expect(Date.parse(rec.expires_at) - Date.now()).toBeGreaterThan(6.9 * 86_400_000);
    const list = (await (await s.fetch('/v1/sessions?meta.team=ml')).json()) as {
      items: { id: string }[];
    };
    expect(list.items.map((x) => x.id)).toEqual(['explicit']);
    const patched = await s.fetch('/v1/sessions/explicit', {
      method: 'PATCH',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ meta: { team: 'ops' } }),
    });
    expect(((await patched.json()) as { meta: object }).meta).toEqual({ team: 'ops' });
  });

  it('returns one session with its artifacts, counts and total bytes', async () => {
    const rec = (await (await s.fetch('/v1/sessions/q2')).json()) as {
      artifact_count: number;
      total_bytes: number;
      artifacts: { version: number }[];
    };
    expect(rec.artifact_count).toBe(2);
    expect(rec.total_bytes).toBe(5);
    expect(rec.artifacts.map((a) => a.version)).toEqual([1, 2]);
  });

  it('seals: digest over the canonical manifest, signed, idempotent, then every change is 409', async () => {
    const sealRes = await s.fetch('/v1/sessions/q1/seal', { method: 'POST' });
    expect(sealRes.status).toBe(200);
    const sealed = (await sealRes.json()) as {
      digest: string;
      signature: string;
      sealed: boolean;
      sealed_at: string;
    };
    expect(sealed.sealed).toBe(true);
    const manifest = (await (await s.fetch('/v1/sessions/q1/manifest')).json()) as Record<
      string,
      unknown
    >;
    const { digest, sealed: _s, signature: _sig, ...covered } = manifest;
    expect(digest).toBe(sealed.digest);
    expect(createHash('sha256').update(canonicalJson(covered)).digest('hex')).toBe(sealed.digest);
    expect((covered.artifacts as { name: string }[]).map((a) => a.name)).toEqual([
      'r/a.json',
      'r/b.png',
    ]);
    const keys = (await (await s.fetch('/v1/keys')).json()) as {
      keys: { public_key_pem: string }[];
    };
    expect(verifySeal(sealed.digest, sealed.signature, keys.keys[0].public_key_pem)).toBe(true);
    expect(verifySeal('0'.repeat(64), sealed.signature, keys.keys[0].public_key_pem)).toBe(false);

    const again = (await (await s.fetch('/v1/sessions/q1/seal', { method: 'POST' })).json()) as {
      digest: string;
      sealed_at: string;
    };
    expect(again).toMatchObject({ digest: sealed.digest, sealed_at: sealed.sealed_at });

    // A small body is refused by the catalog, a large one before it is streamed: neither is kept.
    const large = Buffer.alloc(300 * 1024, 7);
    const refusals = await Promise.all([
      s.fetch('/v1/sessions/q1/artifacts/new.txt', { method: 'PUT', body: Buffer.from('x') }),
      s.fetch('/v1/sessions/q1/artifacts/big.bin', { method: 'PUT', body: large }),
      s.fetch(`/v1/artifacts/${ids.a}`, { method: 'DELETE' }),
      s.fetch('/v1/sessions/q1', {
        method: 'PATCH',
        headers: { 'Content-Type': 'application/json' },
        body: '{"meta":{"a":"b"}}',
      }),
    ]);
    for (const r of refusals) {
      expect(r.status).toBe(409);
      expect(((await r.json()) as { error: { code: string } }).error.code).toBe('session_sealed');
    }
    for (const body of [Buffer.from('x'), large]) {
      const sha = createHash('sha256').update(body).digest('hex');
      expect((await s.fetch(`/v1/blobs/${sha}`, { method: 'HEAD' })).status).toBe(404);
    }
    expect(await items('session=q1')).toEqual([ids.b, ids.a]);
  });

  it('refuses a large push into a sealed session before its body arrives', async () => {
    await push('/v1/sessions/early/artifacts/first.txt', 'x');
    expect((await s.fetch('/v1/sessions/early/seal', { method: 'POST' })).status).toBe(200);
    // Announces 300 KiB, sends 1 KiB and never the rest: only a check made before reading
    // the body can answer (the catalog's own check runs once the body is complete).
    const req = request(`${s.url}/v1/sessions/early/artifacts/big.bin`, {
      method: 'PUT',
      headers: { Authorization: `Bearer ${s.token}`, 'Content-Length': String(300 * 1024) },
    });
    const answered = new Promise<{ status?: number; body: string }>((resolve, reject) => {
      req.on('response', (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode, body }));
      });
      req.on('error', reject);
    });
    req.write(Buffer.alloc(1024, 7));
    const r = await answered;
    req.destroy();
    expect(r.status).toBe(409);
    expect((JSON.parse(r.body) as { error: { code: string } }).error.code).toBe('session_sealed');
  });
});

// Last: it adds artifacts the counts above do not expect.
describe('type=', () => {
  it('type= matches media types case-insensitively, with or without parameters', async () => {
    const sent = ['application/json; charset=utf-8', 'Application/JSON', 'application/json'];
    const got: string[] = [];
    for (const [i, type] of sent.entries()) {
      const rec = await push(`/v1/sessions/types/artifacts/t${i}`, '{}', type);
      got.push(rec.id);
      const stored = (await (await s.fetch(`/v1/artifacts/${rec.id}`)).json()) as {
        content_type: string;
      };
      expect(stored.content_type).toBe(type); // kept as sent
    }
    const newestFirst = [...got].reverse();
    for (const type of ['application/json', 'APPLICATION/json', 'application/*'])
      expect(await items(`session=types&type=${encodeURIComponent(type)}`), type).toEqual(
        newestFirst,
      );
    expect(await items('session=types&type=application/jsonx')).toEqual([]);
  });
});
