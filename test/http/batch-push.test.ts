import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import tar from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => s.close());

interface Entry {
  name: string;
  body?: string | Buffer;
  pax?: Record<string, string>;
  type?: 'file' | 'directory' | 'symlink';
  linkname?: string;
}

/** A tar of `entries` built with tar-stream (PAX headers where given). */
async function tarOf(entries: Entry[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c) => chunks.push(c as Buffer));
  const done = new Promise((r) => pack.on('end', () => r(undefined)));
  for (const e of entries) {
    const body = e.body === undefined ? undefined : Buffer.from(e.body);
    const header = { name: e.name, type: e.type ?? 'file', pax: e.pax, linkname: e.linkname };
    if (body) pack.entry({ ...header, size: body.length }, body);
    else pack.entry(header);
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

const sha = (b: string | Buffer) => createHash('sha256').update(b).digest('hex');

const batch = (session: string, body: Buffer, query = '', headers: Record<string, string> = {}) =>
  s.fetch(`/v1/sessions/${session}/batch${query}`, {
    method: 'POST',
    body,
    headers: { 'Content-Type': 'application/x-tar', ...headers },
  });

interface Rec {
  id: string;
  name: string;
  version: number;
  sha256: string;
  content_type: string;
  meta: Record<string, string>;
  expires_at: string | null;
}

async function sessionNames(session: string): Promise<string[]> {
  const r = await s.fetch(`/v1/artifacts?session=${session}&limit=1000`);
  if (r.status === 404) return [];
  const page = (await r.json()) as { items: Rec[] };
  return page.items.map((a) => a.name).sort();
}

describe('POST /v1/sessions/{sid}/batch', () => {
  it('pushes every file of a tar at once, with per-entry type, digest and metadata', async () => {
    const body = await tarOf([
      { name: './', type: 'directory' },
      { name: './report/', type: 'directory' },
      { name: './report/a.json', body: '{"a":1}', pax: { 'CAIRN.meta.stage': 'one' } },
      {
        name: './report/b.bin',
        body: 'bee',
        pax: { 'CAIRN.type': 'text/plain', 'CAIRN.sha256': sha('bee') },
      },
      { name: 'big.dat', body: Buffer.alloc(200_000, 7) },
    ]);
    const r = await batch('b1', body, '?meta.run=7&ttl=1h');
    expect(r.status).toBe(201);
    const out = (await r.json()) as { session: string; artifacts: Rec[]; batch_sha256: string };
    expect(out.session).toBe('b1');
    expect(out.batch_sha256).toBe(sha(body));
    expect(out.artifacts.map((a) => a.name)).toEqual(['report/a.json', 'report/b.bin', 'big.dat']);
    const [a, b, big] = out.artifacts;
    expect(a.meta).toEqual({ run: '7', stage: 'one' });
    expect(a.content_type).toBe('application/json');
    expect(b.content_type).toBe('text/plain');
    expect(b.sha256).toBe(sha('bee'));
    expect(big.sha256).toBe(sha(Buffer.alloc(200_000, 7)));
    expect(a.expires_at).not.toBeNull();
    const got = await s.fetch('/v1/sessions/b1/artifacts/big.dat');
    expect(Buffer.from(await got.arrayBuffer()).equals(Buffer.alloc(200_000, 7))).toBe(true);
    expect(await (await s.fetch('/v1/sessions/b1/artifacts/report/a.json')).text()).toBe('{"a":1}');
  });

  it('gives each entry the next version of its name', async () => {
    const one = await tarOf([{ name: 'x.txt', body: '1' }]);
    const two = await tarOf([
      { name: 'x.txt', body: '2' },
      { name: 'y.txt', body: 'y' },
    ]);
    expect((await batch('b2', one)).status).toBe(201);
    const out = (await (await batch('b2', two)).json()) as { artifacts: Rec[] };
    expect(out.artifacts.map((a) => [a.name, a.version])).toEqual([
      ['x.txt', 2],
      ['y.txt', 1],
    ]);
  });

  // Each bad entry comes after good ones (one of them large, in the blob files): the whole
  // batch is refused, the message names the entry, and nothing of it is visible or stored.
  it.each<[string, Entry, number, string]>([
    ['a bad name', { name: 'a//b', body: 'x' }, 400, 'invalid_name'],
    ['a tar slip', { name: '../escape', body: 'x' }, 400, 'invalid_name'],
    [
      'a wrong digest',
      { name: 'd', body: 'x', pax: { 'CAIRN.sha256': sha('y') } },
      400,
      'digest_mismatch',
    ],
    [
      'a malformed digest',
      { name: 'd', body: 'x', pax: { 'CAIRN.sha256': 'abc' } },
      400,
      'invalid_sha256',
    ],
    ['a duplicate', { name: 'good.txt', body: 'again' }, 400, 'duplicate_entry'],
    ['a symlink', { name: 'l', type: 'symlink', linkname: '/etc/passwd' }, 400, 'unsafe_entry'],
    [
      'bad metadata',
      { name: 'm', body: 'x', pax: { 'CAIRN.meta.bad key': 'v' } },
      400,
      'invalid_meta',
    ],
    [
      'an unknown CAIRN header',
      { name: 'u', body: 'x', pax: { 'CAIRN.typo': 'v' } },
      400,
      'invalid_entry',
    ],
  ])('refuses the whole batch for %s, naming the entry', async (_what, bad, status, code) => {
    const before = readdirSync(join(s.dataDir, 'blobs'), { recursive: true }).length;
    const body = await tarOf([
      { name: 'good.txt', body: 'fine' },
      { name: 'large.bin', body: Buffer.alloc(300_000, 3) },
      bad,
    ]);
    const session = `bad_${code}_${bad.name.length}`;
    const r = await batch(session, body);
    expect(r.status).toBe(status);
    const err = (await r.json()) as { error: { code: string; message: string } };
    expect(err.error.code).toBe(code);
    expect(err.error.message).toContain(bad.name.replace(/^\.\//, '').slice(0, 5));
    expect(await sessionNames(session)).toEqual([]);
    expect(readdirSync(join(s.dataDir, 'blobs'), { recursive: true }).length).toBe(before);
    const blob = await s.fetch(`/v1/blobs/${sha(Buffer.alloc(300_000, 3))}`, { method: 'HEAD' });
    expect(blob.status).toBe(404);
  });

  it('refuses a truncated tar and an empty one, storing nothing', async () => {
    const body = await tarOf([
      { name: 'a.txt', body: 'a' },
      { name: 'b.txt', body: 'b'.repeat(5000) },
    ]);
    const cut = await batch('trunc', body.subarray(0, 1200));
    expect(cut.status).toBe(400);
    expect(((await cut.json()) as { error: { code: string } }).error.code).toBe('truncated_tar');
    const empty = await batch('trunc', await tarOf([]));
    expect(((await empty.json()) as { error: { code: string } }).error.code).toBe('empty_batch');
    expect(await sessionNames('trunc')).toEqual([]);
  });

  it('refuses a batch into a sealed session with 409 and a body that is not a tar with 400', async () => {
    expect((await batch('sealed_b', await tarOf([{ name: 'a', body: 'a' }]))).status).toBe(201);
    expect((await s.fetch('/v1/sessions/sealed_b/seal', { method: 'POST' })).status).toBe(200);
    const r = await batch('sealed_b', await tarOf([{ name: 'b', body: 'b' }]));
    expect(r.status).toBe(409);
    const json = await s.fetch('/v1/sessions/j/batch', {
      method: 'POST',
      body: '{}',
      headers: { 'Content-Type': 'application/json' },
    });
    expect(json.status).toBe(400);
    expect(((await json.json()) as { error: { message: string } }).error.message).toContain(
      'application/x-tar',
    );
  });

  it('replays a retried batch with the same Idempotency-Key and refuses other bytes under it', async () => {
    const body = await tarOf([{ name: 'i.txt', body: 'i' }]);
    const h = { 'Idempotency-Key': 'batch-1' };
    const [a, b] = await Promise.all([batch('idem_b', body, '', h), batch('idem_b', body, '', h)]);
    const c = await batch('idem_b', body, '', h);
    const ids = await Promise.all(
      [a, b, c].map(async (r) => ((await r.json()) as { artifacts: Rec[] }).artifacts[0].id),
    );
    expect(new Set(ids).size).toBe(1);
    const other = await batch('idem_b', await tarOf([{ name: 'i.txt', body: 'j' }]), '', h);
    expect(other.status).toBe(422);
    const versions = (await (await s.fetch('/v1/artifacts?session=idem_b')).json()) as {
      items: Rec[];
    };
    expect(versions.items).toHaveLength(1);
  });

  it('GET …/batch streams the latest files in the same format, and that tar pushes back as it is', async () => {
    const body = await tarOf([
      { name: 'a.txt', body: 'old' },
      { name: 'dir/b.json', body: '{}', pax: { 'CAIRN.meta.k': 'v' } },
    ]);
    expect((await batch('rt1', body)).status).toBe(201);
    expect((await batch('rt1', await tarOf([{ name: 'a.txt', body: 'new' }]))).status).toBe(201);
    const got = await s.fetch('/v1/sessions/rt1/batch');
    expect(got.status).toBe(200);
    expect(got.headers.get('content-type')).toBe('application/x-tar');
    const tarBytes = Buffer.from(await got.arrayBuffer());
    const back = await batch('rt2', tarBytes);
    expect(back.status).toBe(201);
    const recs = ((await back.json()) as { artifacts: Rec[] }).artifacts;
    expect(recs.map((r) => [r.name, r.sha256, r.meta]).sort()).toEqual([
      ['a.txt', sha('new'), {}],
      ['dir/b.json', sha('{}'), { k: 'v' }],
    ]);
    expect((await s.fetch('/v1/sessions/nope/batch')).status).toBe(404);
  });

  it('racing a seal, every acknowledged batch is whole in the sealed manifest and every other is 409', async () => {
    let acked = 0;
    let refused = 0;
    for (let round = 0; round < 15; round++) {
      const session = `race_${round}`;
      expect((await batch(session, await tarOf([{ name: 'seed', body: 's' }]))).status).toBe(201);
      const bodies = await Promise.all(
        [0, 1, 2].map((k) =>
          tarOf([
            ...Array.from({ length: 20 }, (_, i) => ({
              name: `b${k}/f${i}`,
              body: `${round}.${k}.${i}`,
            })),
            { name: `b${k}/large.bin`, body: Buffer.alloc(100_000, k + round) },
          ]),
        ),
      );
      // The seal goes out later each round, so that it lands before, among and after the commits.
      const sealing = new Promise<Response>((resolve) =>
        setTimeout(
          () => resolve(s.fetch(`/v1/sessions/${session}/seal`, { method: 'POST' })),
          round * 3,
        ),
      );
      const [seal, ...answers] = await Promise.all([
        sealing,
        ...bodies.map((b) => batch(session, b)),
      ]);
      expect(seal.status).toBe(200);
      const manifest = (await (await s.fetch(`/v1/sessions/${session}/manifest`)).json()) as {
        artifacts: { name: string }[];
      };
      const names = new Set(manifest.artifacts.map((a) => a.name));
      let expected = 1;
      for (const [k, r] of answers.entries()) {
        if (r.status === 201) {
          acked++;
          expected += 21;
          for (let i = 0; i < 20; i++) expect(names.has(`b${k}/f${i}`)).toBe(true);
        } else {
          refused++;
          expect(r.status).toBe(409);
          expect([...names].some((n) => n.startsWith(`b${k}/`))).toBe(false);
        }
      }
      expect(names.size).toBe(expected);
    }
    // Every batch got one of the two answers (about 17 of 45 acknowledged in a run here).
    expect(acked + refused).toBe(45);
  });

  it('a batch whose small files could never fit --max-upload-memory is 413 (split it), not a 503 to retry', async () => {
    const small = await startTestServer({ maxUploadMemory: 8 * 1024 * 1024 });
    try {
      // 200 small files of 60 KB: 12 MB held until the commit, more than the whole budget.
      const many = Array.from({ length: 200 }, (_, i) => ({
        name: `m${i}.bin`,
        body: Buffer.alloc(60_000, i),
      }));
      const r = await small.fetch('/v1/sessions/mem/batch', {
        method: 'POST',
        body: await tarOf(many),
        headers: { 'Content-Type': 'application/x-tar' },
      });
      const err = (await r.json()) as { error: { code: string; message: string } };
      expect(r.status).toBe(413);
      expect(err.error.message).toContain('split it into smaller batches');
      // Half of it fits: the budget was given back.
      const half = await small.fetch('/v1/sessions/mem/batch', {
        method: 'POST',
        body: await tarOf(many.slice(0, 100)),
        headers: { 'Content-Type': 'application/x-tar' },
      });
      expect(half.status).toBe(201);
      // Metadata is held until the commit too: 200 empty files with 60 KB of it each.
      const meta = Object.fromEntries(
        Array.from({ length: 60 }, (_, k) => [`CAIRN.meta.k${k}`, 'v'.repeat(1000)]),
      );
      const heavy = await small.fetch('/v1/sessions/mem2/batch', {
        method: 'POST',
        body: await tarOf(
          Array.from({ length: 200 }, (_, i) => ({ name: `e${i}`, body: '', pax: meta })),
        ),
        headers: { 'Content-Type': 'application/x-tar' },
      });
      expect(heavy.status).toBe(413);
    } finally {
      await small.close();
    }
  });

  it('a batch of many small files reserves memory under one listener and gives it all back', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.name);
    process.on('warning', onWarning);
    const small = await startTestServer({ maxUploadMemory: 8 * 1024 * 1024 });
    try {
      // 100 files of 60 KB: 6 MB, three quarters of the budget, reserved entry by entry.
      const many = Array.from({ length: 100 }, (_, i) => ({
        name: `w${i}.bin`,
        body: Buffer.alloc(60_000, i),
      }));
      for (let round = 0; round < 3; round++) {
        const r = await small.fetch(`/v1/sessions/listeners${round}/batch`, {
          method: 'POST',
          body: await tarOf(many),
          headers: { 'Content-Type': 'application/x-tar' },
        });
        const body = await r.text();
        // Each round fits only if the one before gave back every byte it reserved.
        expect(r.status, body.slice(0, 300)).toBe(201);
      }
      await new Promise((r) => setImmediate(r));
      expect(warnings).not.toContain('MaxListenersExceededWarning');
    } finally {
      process.off('warning', onWarning);
      await small.close();
    }
  });
});
