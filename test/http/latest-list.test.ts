import { createHash } from 'node:crypto';
import tar from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';

// GET /v1/sessions/{sid}/latest: what `cairn push --sync` compares against, one line per name.
let s: TestServer;
let now = Date.parse('2026-01-01T00:00:00Z');

beforeAll(async () => {
  s = await startTestServer({}, { clock: () => now });
});
afterAll(() => s.close());

const sha = (b: string) => createHash('sha256').update(b).digest('hex');

async function push(session: string, name: string, body: string, query = ''): Promise<string> {
  const res = await s.fetch(`/v1/sessions/${session}/artifacts/${name}${query}`, {
    method: 'PUT',
    body,
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { id: string }).id;
}

/** A batch of `names`, each holding its own name. */
async function pushBatch(session: string, names: string[]): Promise<void> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c) => chunks.push(c as Buffer));
  const done = new Promise((r) => pack.on('end', () => r(undefined)));
  for (const n of names) pack.entry({ name: n }, n);
  pack.finalize();
  await done;
  const res = await s.fetch(`/v1/sessions/${session}/batch`, {
    method: 'POST',
    body: Buffer.concat(chunks),
    headers: { 'Content-Type': 'application/x-tar' },
  });
  expect(res.status).toBe(201);
}

/** The lines of the compact answer, as [name, sha256]. */
async function latest(session: string, token?: string): Promise<[string, string][]> {
  const headers = token ? { Authorization: `Bearer ${token}` } : undefined;
  const res = await s.fetch(`/v1/sessions/${session}/latest`, { headers });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
  const text = await res.text();
  expect(text.endsWith('\n')).toBe(true);
  return text
    .slice(0, -1)
    .split('\n')
    .map((l) => {
      expect(l).toMatch(/^[0-9a-f]{64} ./);
      return [l.slice(65), l.slice(0, 64)];
    });
}

/** The latest sha256 of each name as the whole session listing gives it. */
async function fromListing(session: string): Promise<[string, string][]> {
  const res = await s.fetch(`/v1/sessions/${session}`);
  const body = (await res.json()) as { artifacts: { name: string; sha256: string }[] };
  return [...new Map(body.artifacts.map((a) => [a.name, a.sha256]))];
}

describe('GET /v1/sessions/{sid}/latest', () => {
  it('lists the newest live version of each name, leaving out what expired or was deleted', async () => {
    await push('lt_1', 'a.txt', 'a1');
    await push('lt_1', 'a.txt', 'a2');
    await push('lt_1', 'b.txt', 'b1');
    await push('lt_1', 'b.txt', 'b2', '?ttl=1m');
    await push('lt_1', 'c.txt', 'c1', '?ttl=1m');
    await push('lt_1', 'd.txt', 'd1');
    const d2 = await push('lt_1', 'd.txt', 'd2');
    const e1 = await push('lt_1', 'dir/e.txt', 'e1');
    expect(await latest('lt_1')).toEqual([
      ['a.txt', sha('a2')],
      ['b.txt', sha('b2')],
      ['c.txt', sha('c1')],
      ['d.txt', sha('d2')],
      ['dir/e.txt', sha('e1')],
    ]);
    // b's newest version and c's only one expire; d's newest and e are deleted. No sweep ran.
    now += 120_000;
    for (const id of [d2, e1])
      expect((await s.fetch(`/v1/artifacts/${id}`, { method: 'DELETE' })).status).toBe(200);
    const lines = await latest('lt_1');
    expect(lines).toEqual([
      ['a.txt', sha('a2')],
      ['b.txt', sha('b1')],
      ['d.txt', sha('d1')],
    ]);
    expect(lines).toEqual(await fromListing('lt_1'));
  });

  it('pages through thousands of names in name order, each once, as the listing has them', async () => {
    const names = Array.from({ length: 2500 }, (_, i) => `p/${String(i).padStart(4, '0')}.txt`);
    for (let i = 0; i < names.length; i += 1000) await pushBatch('lt_2', names.slice(i, i + 1000));
    await push('lt_2', 'p/1500.txt', 'changed');
    const lines = await latest('lt_2');
    expect(lines.map(([n]) => n)).toEqual(names);
    expect(lines[1500]).toEqual(['p/1500.txt', sha('changed')]);
    expect(lines).toEqual(await fromListing('lt_2'));
  });

  it('answers 404 for an unknown session and 401 without a token', async () => {
    const missing = await s.fetch('/v1/sessions/lt_none/latest');
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('not_found');
    const anon = await fetch(`${s.url}/v1/sessions/lt_1/latest`);
    expect(anon.status).toBe(401);
  });

  it('is the 404 of a missing session for a token whose glob does not match', async () => {
    await push('scope_in', 'x.txt', 'x');
    await push('scope_out', 'y.txt', 'y');
    const res = await s.fetch('/v1/tokens', {
      method: 'POST',
      body: JSON.stringify({ scope: 'read', sessions: 'scope_in*' }),
      headers: { 'Content-Type': 'application/json' },
    });
    const { token } = (await res.json()) as { token: string };
    expect(await latest('scope_in', token)).toEqual([['x.txt', sha('x')]]);
    const hidden = await s.fetch('/v1/sessions/scope_out/latest', {
      headers: { Authorization: `Bearer ${token}` },
    });
    const absent = await s.fetch('/v1/sessions/scope_none/latest', {
      headers: { Authorization: `Bearer ${token}` },
    });
    expect(hidden.status).toBe(404);
    expect(absent.status).toBe(404);
    const said = async (r: Response) => ((await r.json()) as { error: { message: string } }).error;
    // Word for word the answer about a session that does not exist.
    const none = await said(absent);
    expect(await said(hidden)).toEqual({
      ...none,
      message: none.message.replace('scope_none', 'scope_out'),
    });
  });
});

describe('GET /v1/sessions/{sid}/latest on a catalog without its name-ordered read', () => {
  it('pages through a latest query instead, with the same lines', async () => {
    const names = Array.from({ length: 1200 }, (_, i) => `q/${i}.txt`);
    await pushBatch('lt_3', names.slice(0, 1000));
    await pushBatch('lt_3', names.slice(1000));
    await push('lt_3', 'q/7.txt', 'changed');
    const catalog = s.app.catalog as { latestLines?: unknown };
    catalog.latestLines = undefined;
    try {
      const lines = await latest('lt_3');
      expect(lines.length).toBe(1200);
      expect(lines.sort()).toEqual((await fromListing('lt_3')).sort());
    } finally {
      delete catalog.latestLines;
    }
    expect(await latest('lt_3')).toEqual(await fromListing('lt_3'));
  });
});
