import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import tar from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, spawnServer, startTestServer, tempDir, type TestServer } from '../helpers/server.js';
import { MARK, hostileCorpus, type HostileCase } from './hostile-corpus.js';
import { rawExchange, rawRequest, socketRequest } from './raw-http.js';

let s: TestServer;
const tokens: Record<string, string> = {};

beforeAll(async () => {
  s = await startTestServer({ bodyIdleTimeoutMs: 1000, headersTimeoutMs: 1000 });
  await s.fetch('/v1/sessions/ok/artifacts/seed.txt', { method: 'PUT', body: 'seed' });
  await s.fetch('/v1/sessions/sealed1/artifacts/a.txt', { method: 'PUT', body: 'a' });
  await s.fetch('/v1/sessions/sealed1/seal', { method: 'POST' });
  for (const [as, body] of [
    ['read', { scope: 'read' }],
    ['write', { scope: 'write' }],
    ['scoped', { scope: 'write', sessions: 'run_*' }],
  ] as const) {
    const res = await s.fetch('/v1/tokens', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    tokens[as] = ((await res.json()) as { token: string }).token;
  }
  tokens.admin = s.token;
});
afterAll(async () => s.close());

/** Sends a case and checks the answer: a 4xx JSON envelope that leaks no path or stack. */
async function expectRefused(c: HostileCase): Promise<void> {
  const as = c.as ?? 'admin';
  const headers = {
    ...(as === 'none' ? {} : { Authorization: `Bearer ${tokens[as]}` }),
    ...c.headers,
  };
  const res =
    c.raw !== undefined
      ? await rawExchange(s.url, c.raw.replace('TOKEN', tokens.admin))
      : await rawRequest(s.url, c.method, c.path, { body: c.body, headers });
  if (c.status !== undefined) expect(res.status, res.body).toBe(c.status);
  expect(res.status, res.body).toBeGreaterThanOrEqual(400);
  // 501 only where the case asks for it (a transfer coding the server does not speak).
  if (res.status !== 501 || c.status !== 501) expect(res.status, res.body).toBeLessThan(500);
  expect(res.headers['content-type'], res.body).toMatch(/^application\/json/);
  // HEAD has no body; /mcp answers in JSON-RPC's own error shape (the MCP transport's contract).
  if (c.method === 'HEAD' || c.path === '/mcp') return;
  const env = JSON.parse(res.body) as { error: { code: string; message: string } };
  expect(env.error.code).toMatch(/^[a-z0-9_]+$/);
  expect(typeof env.error.message).toBe('string');
  expect(res.body).not.toContain(s.dataDir);
  expect(res.body).not.toMatch(/\n\s+at |node_modules|\/work\//);
}

const corpus = hostileCorpus();

describe('hostile input: a table of bad requests, each refused with a 4xx JSON envelope', () => {
  it('has at least 200 requests', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(200);
  });
  it.each(corpus.map((c) => [c.name, c] as const))('%s', async (_n, c) => expectRefused(c));

  it('a refused batch stores nothing: its session stays empty and fsck finds no stray bytes', async () => {
    const sessions = corpus.flatMap(
      (c) => /^\/v1\/sessions\/(hb_\w+)\/batch$/.exec(c.path)?.[1] ?? [],
    );
    expect(sessions.length).toBeGreaterThan(20);
    for (const sid of sessions) {
      const res = await s.fetch(`/v1/artifacts?session=${sid}`);
      const items = res.status === 404 ? [] : ((await res.json()) as { items: unknown[] }).items;
      expect(items, sid).toEqual([]);
    }
    await waitFor(async () => readdirSync(`${s.dataDir}/tmp`).length === 0);
    const fsck = (await (await s.fetch('/v1/fsck', { method: 'POST' })).json()) as {
      problems_total: number;
    };
    expect(fsck.problems_total).toBe(0);
  });
});

/** A tar built from entries; a `type` other than file makes links. */
async function tarOf(
  entries: {
    name: string;
    body?: string;
    type?: 'symlink' | 'link' | 'directory';
    linkname?: string;
    size?: number;
  }[],
): Promise<Buffer> {
  const pack = tar.pack();
  for (const e of entries) {
    if (e.type) pack.entry({ name: e.name, type: e.type, linkname: e.linkname });
    else pack.entry({ name: e.name }, e.body ?? '');
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

describe('hostile tars (import)', () => {
  const cases: [string, () => Promise<Buffer>][] = [
    ['tar slip ../', () => tarOf([{ name: `../${MARK}`, body: 'x' }])],
    ['tar slip deep', () => tarOf([{ name: `files/../../../${MARK}`, body: 'x' }])],
    ['absolute path', () => tarOf([{ name: `/tmp/${MARK}`, body: 'x' }])],
    [
      'symlink entry',
      () => tarOf([{ name: 'files/link', type: 'symlink', linkname: '/etc/passwd' }]),
    ],
    [
      'hard link entry',
      () => tarOf([{ name: 'files/hard', type: 'link', linkname: '/etc/passwd' }]),
    ],
    ['directory only', () => tarOf([{ name: 'files/', type: 'directory' }])],
    ['no manifest', () => tarOf([{ name: 'files/a.txt', body: 'a' }])],
    ['manifest not JSON', () => tarOf([{ name: 'cairn-export.json', body: '{nope' }])],
    ['manifest JSON bomb', () => tarOf([{ name: 'cairn-export.json', body: '['.repeat(100_000) }])],
    [
      'truncated tar',
      async () =>
        (await tarOf([{ name: 'cairn-export.json', body: 'x'.repeat(5000) }])).subarray(0, 1500),
    ],
    [
      'tar bomb: 5000 empty entries',
      () => tarOf(Array.from({ length: 5000 }, (_, i) => ({ name: `files/e${i}`, body: '' }))),
    ],
    ['zero blocks only', async () => Buffer.alloc(10240)],
  ];
  it.each(cases)('%s is refused', async (_n, make) =>
    expectRefused({
      name: _n,
      method: 'POST',
      path: '/v1/import',
      body: await make(),
      headers: { 'Content-Type': 'application/x-tar' },
    }),
  );
});

describe('share links that must not work', () => {
  async function share(body: object): Promise<string> {
    const seed = (await (await s.fetch('/v1/artifacts?session=ok&name=seed.txt')).json()) as {
      items: { id: string }[];
    };
    const res = await s.fetch(`/v1/artifacts/${seed.items[0].id}/share`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    const rec = (await res.json()) as { id: string; url: string };
    return rec.url.slice(rec.url.indexOf('/s/'));
  }
  it('a revoked link answers 410', async () => {
    const path = await share({});
    const list = (await (await s.fetch('/v1/shares')).json()) as { items: { id: string }[] };
    for (const x of list.items) await s.fetch(`/v1/shares/${x.id}`, { method: 'DELETE' });
    await expectRefused({ name: 'revoked', method: 'GET', path, as: 'none', status: 410 });
  });
  it('a used-up link answers 410', async () => {
    const path = await share({ max_downloads: 1 });
    expect((await rawRequest(s.url, 'GET', path)).status).toBe(200);
    await expectRefused({ name: 'used up', method: 'GET', path, as: 'none', status: 410 });
  });
  it('a link one character off answers 404', async () => {
    const path = await share({});
    const last = path.at(-1) === 'A' ? 'B' : 'A';
    await expectRefused({
      name: 'off by one',
      method: 'GET',
      path: path.slice(0, -1) + last,
      as: 'none',
      status: 404,
    });
  });
});

describe('truncated and stalled bodies', () => {
  const head = (len: number, name: string) =>
    `PUT /v1/sessions/ok/artifacts/${name} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${s.token}\r\nContent-Length: ${len}\r\n\r\n`;

  it('a body cut short (client closes) stores nothing and leaves no temp file', async () => {
    await socketRequest(s.url, head(100_000, 'cut.bin'), Buffer.alloc(5000, 1), {
      closeAfterMs: 50,
    });
    await waitFor(async () => readdirSync(`${s.dataDir}/tmp`).length === 0);
    expect((await s.fetch('/v1/sessions/ok/artifacts/cut.bin')).status).toBe(404);
  });

  it('a stalled body is answered 408 after the body idle timeout, and nothing is stored', async () => {
    const answer = await socketRequest(s.url, head(100_000, 'slow.bin'), Buffer.alloc(10, 1));
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
    expect(answer).toContain('"code":"request_timeout"');
    expect((await s.fetch('/v1/sessions/ok/artifacts/slow.bin')).status).toBe(404);
    await waitFor(async () => readdirSync(`${s.dataDir}/tmp`).length === 0);
  });

  it('a request head that never ends is answered 408', async () => {
    const answer = await socketRequest(
      s.url,
      'GET /v1/artifacts HTTP/1.1\r\nHost: x\r\n',
      Buffer.alloc(0),
    );
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
  });

  it('a chunked body with a malformed chunk is a 400, not a hang', async () => {
    const answer = await socketRequest(
      s.url,
      `PUT /v1/sessions/ok/artifacts/chunk.bin HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${s.token}\r\nTransfer-Encoding: chunked\r\n\r\n`,
      Buffer.from('zz\r\nhello\r\n'),
    );
    expect(answer).toMatch(/^HTTP\/1\.1 400/);
  });
});

describe('limits are set from cairn serve flags', () => {
  it('--max-header-size 1KiB answers a 2 KiB head with 431; --body-timeout cuts a stalled body', async () => {
    const dir = tempDir('cairn-limits-');
    const server = await spawnServer(`${dir}/data`, [
      '--max-header-size',
      '1KiB',
      '--body-timeout',
      '1s',
      '--headers-timeout',
      '2s',
    ]);
    try {
      const big = await rawRequest(server.url, 'GET', '/v1/artifacts', {
        headers: { Authorization: `Bearer ${server.token}`, 'X-Pad': 'p'.repeat(2048) },
      });
      expect(big.status).toBe(431);
      expect(big.body).toContain('larger than 1024 bytes');
      const head = `PUT /v1/sessions/ok/artifacts/slow.bin HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${server.token}\r\nContent-Length: 1000\r\n\r\n`;
      expect(await socketRequest(server.url, head, Buffer.alloc(10))).toMatch(/^HTTP\/1\.1 408/);
    } finally {
      await server.stop();
      execFileSync('rm', ['-rf', dir]);
    }
  });
});

describe('nothing escapes the data dir', () => {
  it(`no file named *${MARK}* exists outside it (checked after every other hostile test)`, () => {
    const found = (dir: string) => {
      const r = spawnSync('find', [dir, '-maxdepth', '4', '-name', `*${MARK}*`], {
        encoding: 'utf8',
      });
      // Other test files remove their temp dirs while find walks /tmp: such vanished entries
      // are its only tolerated complaint (any other error fails the test).
      const other = r.stderr
        .split('\n')
        .filter((l) => l !== '' && !l.endsWith('No such file or directory'));
      expect(other, r.stderr).toEqual([]);
      return r.stdout.trim();
    };
    expect(found(tmpdir())).toBe('');
    expect(found(ROOT)).toBe('');
    expect(found('/etc')).toBe('');
  });
});

async function waitFor(cond: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('condition not reached in 5 s');
}
