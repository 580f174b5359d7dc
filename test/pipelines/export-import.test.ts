import { execFileSync } from 'node:child_process';
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import tar from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forgeResigned, rewriteExport } from '../helpers/forge-export.js';
import { startTestServer, tempDir, type TestServer } from '../helpers/server.js';

let a: TestServer;
let b: TestServer;

beforeAll(async () => {
  [a, b] = await Promise.all([startTestServer(), startTestServer()]);
});
afterAll(async () => {
  await Promise.all([a.close(), b.close()]);
});

async function push(s: TestServer, sid: string, name: string, body: string, query = '') {
  const res = await s.fetch(`/v1/sessions/${sid}/artifacts/${name}${query}`, {
    method: 'PUT',
    body,
  });
  expect(res.status).toBe(201);
  return (await res.json()) as { id: string; sha256: string };
}

async function exportTar(s: TestServer, sid: string): Promise<Buffer> {
  const res = await s.fetch(`/v1/sessions/${sid}/export`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('application/x-tar');
  return Buffer.from(await res.arrayBuffer());
}

async function importTar(s: TestServer, body: Buffer | Uint8Array) {
  const res = await s.fetch('/v1/import', {
    method: 'POST',
    body,
    headers: { 'Content-Type': 'application/x-tar' },
  });
  return {
    status: res.status,
    body: (await res.json()) as {
      created?: boolean;
      session?: Record<string, unknown>;
      error?: { code: string };
    },
  };
}

type EntryHeader = Parameters<tar.Pack['entry']>[0];

/** Builds a tar from entries (headers as tar-stream takes them). */
async function makeTar(
  entries: { header: EntryHeader; body?: string | Buffer }[],
  cut?: number,
): Promise<Buffer> {
  const pack = tar.pack();
  for (const e of entries) {
    if (e.body === undefined) pack.entry(e.header);
    else pack.entry(e.header, e.body);
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  const all = Buffer.concat(chunks);
  return cut === undefined ? all : all.subarray(0, cut);
}

describe('export → import → verify between two real servers', () => {
  it('recreates a sealed session with lineage, versions and its signature', async () => {
    const up = await push(a, 'exp-src', 'input.csv', 'x,y\n1,2\n');
    await push(a, 'exp', 'reports/q3.md', '# v1', '?meta.stage=draft');
    await push(a, 'exp', 'reports/q3.md', '# v2', '?meta.stage=final');
    await push(a, 'exp', 'out.json', '{"ok":true}', `?derived_from=${up.id}`);
    const sealed = (await (await a.fetch('/v1/sessions/exp/seal', { method: 'POST' })).json()) as {
      digest: string;
      signature: string;
    };
    const tarBytes = await exportTar(a, 'exp');

    // GNU tar lists it, files under their names.
    const dir = tempDir();
    const file = join(dir, 'exp.tar');
    writeFileSync(file, tarBytes);
    const listing = execFileSync('tar', ['-tf', file], { encoding: 'utf8' }).trim().split('\n');
    expect(listing).toEqual([
      'cairn-export.json',
      'files/out.json',
      'versions/1/reports/q3.md',
      'files/reports/q3.md',
    ]);
    execFileSync('tar', ['-xf', file, '-C', dir]);
    expect(readdirSync(join(dir, 'files/reports'))).toEqual(['q3.md']);
    rmSync(dir, { recursive: true, force: true });

    const first = await importTar(b, tarBytes);
    expect(first.status).toBe(201);
    expect(first.body.created).toBe(true);
    expect(first.body.session).toMatchObject({
      id: 'exp',
      sealed: true,
      digest: sealed.digest,
      signature: sealed.signature,
      artifact_count: 3,
    });
    const onB = (await (await b.fetch('/v1/sessions/exp')).json()) as {
      artifacts: { name: string; version: number; derived_from: string[]; meta: object }[];
    };
    expect(onB.artifacts.map((x) => `${x.name}@${x.version}`)).toEqual([
      'out.json@1',
      'reports/q3.md@1',
      'reports/q3.md@2',
    ]);
    expect(onB.artifacts[0].derived_from).toEqual([up.id]);
    expect(onB.artifacts[2].meta).toEqual({ stage: 'final' });
    expect(await (await b.fetch('/v1/sessions/exp/artifacts/reports/q3.md')).text()).toBe('# v2');
    // Still sealed on B: no push accepted.
    const refused = await b.fetch('/v1/sessions/exp/artifacts/new.txt', {
      method: 'PUT',
      body: 'x',
    });
    expect(refused.status).toBe(409);

    // Re-export from B carries A's key, so the signature still verifies (same bytes of seal).
    const again = await exportTar(b, 'exp');
    const doc = JSON.parse(await firstEntry(again)) as { key: { id: string } };
    const keysA = (await (await a.fetch('/v1/keys')).json()) as { keys: { id: string }[] };
    expect(doc.key.id).toBe(keysA.keys[0].id);

    // Importing the same export twice is idempotent.
    const second = await importTar(b, tarBytes);
    expect(second.status).toBe(200);
    expect(second.body.created).toBe(false);
  });

  it('answers 409 when a different session has the id', async () => {
    await push(a, 'clash', 'a.txt', 'from A');
    await push(b, 'clash', 'a.txt', 'from B');
    const r = await importTar(b, await exportTar(a, 'clash'));
    expect(r.status).toBe(409);
    expect(r.body.error?.code).toBe('session_exists');
  });
});

async function firstEntry(t: Buffer): Promise<string> {
  const extract = tar.extract();
  extract.end(t);
  for await (const e of extract) {
    const chunks: Buffer[] = [];
    for await (const c of e) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }
  throw new Error('empty tar');
}

describe('hostile and broken tars are refused with nothing written', () => {
  let good: Buffer;
  let doc: string;
  beforeAll(async () => {
    await push(a, 'hostile-src', 'data/one.txt', 'one');
    await a.fetch('/v1/sessions/hostile-src/seal', { method: 'POST' });
    good = await exportTar(a, 'hostile-src');
    doc = await firstEntry(good);
  });

  const docHeader = () => ({ name: 'cairn-export.json', size: Buffer.byteLength(doc) });
  const cases: [string, () => Promise<Buffer>, string][] = [
    [
      'a .. path',
      () =>
        makeTar([
          { header: docHeader(), body: doc },
          { header: { name: '../../etc/x', size: 3 }, body: 'one' },
        ]),
      'unsafe_entry',
    ],
    [
      'an absolute path',
      () =>
        makeTar([
          { header: docHeader(), body: doc },
          { header: { name: '/etc/passwd', size: 3 }, body: 'one' },
        ]),
      'unsafe_entry',
    ],
    [
      'a symlink',
      () =>
        makeTar([
          { header: docHeader(), body: doc },
          { header: { name: 'files/data/one.txt', type: 'symlink', linkname: '/etc/passwd' } },
        ]),
      'unsafe_entry',
    ],
    [
      'a hard link',
      () =>
        makeTar([
          { header: docHeader(), body: doc },
          { header: { name: 'files/data/one.txt', type: 'link', linkname: 'cairn-export.json' } },
        ]),
      'unsafe_entry',
    ],
    [
      'a device',
      () =>
        makeTar([
          { header: docHeader(), body: doc },
          {
            header: {
              name: 'files/data/one.txt',
              type: 'character-device',
              devmajor: 1,
              devminor: 3,
            },
          },
        ]),
      'unsafe_entry',
    ],
    [
      'bytes that do not match the hash',
      () =>
        makeTar([
          { header: docHeader(), body: doc },
          { header: { name: 'files/data/one.txt', size: 3 }, body: 'two' },
        ]),
      'digest_mismatch',
    ],
    [
      'an unannounced file',
      () =>
        makeTar([
          { header: docHeader(), body: doc },
          { header: { name: 'files/data/one.txt', size: 3 }, body: 'one' },
          { header: { name: 'files/extra.txt', size: 1 }, body: 'x' },
        ]),
      'unexpected_entry',
    ],
    ['a missing file', () => makeTar([{ header: docHeader(), body: doc }]), 'incomplete_export'],
    [
      'a forged digest',
      () => {
        const forged = doc.replace(/"digest": "[0-9a-f]{64}"/, `"digest": "${'0'.repeat(64)}"`);
        return makeTar([
          { header: { name: 'cairn-export.json', size: Buffer.byteLength(forged) }, body: forged },
          { header: { name: 'files/data/one.txt', size: 3 }, body: 'one' },
        ]);
      },
      'seal_mismatch',
    ],
    [
      "a seal re-signed by another key shipped under this key's id",
      () => forgeResigned(good, 'files/data/one.txt', 'own'),
      'seal_mismatch',
    ],
    [
      'a file before the document',
      () => makeTar([{ header: { name: 'files/data/one.txt', size: 3 }, body: 'one' }]),
      'invalid_export',
    ],
    ['a truncated tar', async () => good.subarray(0, 1024 + 200), 'truncated_tar'],
    ['not a tar at all', async () => Buffer.from('hello, this is not a tar'), 'truncated_tar'],
  ];

  it.each(cases)('refuses %s', async (_what, build, code) => {
    const before = readdirSync(join(b.dataDir, 'blobs'), { recursive: true }).length;
    const r = await importTar(b, await build());
    expect(r.status).toBe(400);
    expect(r.body.error?.code).toBe(code);
    expect((await b.fetch('/v1/sessions/hostile-src')).status).toBe(404);
    expect(readdirSync(join(b.dataDir, 'blobs'), { recursive: true }).length).toBe(before);
    expect(readdirSync(join(b.dataDir, 'tmp')).filter((f) => !f.startsWith('.'))).toEqual([]);
  });

  it('refuses an artifact larger than the server accepts with a 413', async () => {
    const small = await startTestServer({ maxSize: 2 });
    try {
      const r = await importTar(small, good);
      expect(r.status).toBe(413);
      expect((await small.fetch('/v1/sessions/hostile-src')).status).toBe(404);
    } finally {
      await small.close();
    }
  });

  it.each(['text/html\r\nX-Evil: 1', 'text/pl\u00e9ain\u0100'])(
    'refuses a content type no response header can carry (%j), so no artifact is unreadable',
    async (type) => {
      await push(a, 'odd-type', 'a.txt', 'a');
      const open = await exportTar(a, 'odd-type');
      const bad = await rewriteExport(open, (doc) => {
        for (const x of [...doc.artifacts, ...doc.manifest.artifacts]) x.content_type = type;
      });
      const r = await importTar(b, bad);
      expect(r.status).toBe(400);
      expect(r.body.error?.code).toBe('invalid_export');
      expect((await b.fetch('/v1/sessions/odd-type')).status).toBe(404);
    },
  );

  it('still takes every content type a push takes (tab, Latin-1) through export and import', async () => {
    // Latin-1 in a quoted value (a token may not hold it: RFC 9110, checked on push).
    const type = 'text/plain;\tcharset="x-caf\u00e9"';
    const res = await a.fetch('/v1/sessions/latin-type/artifacts/l.txt', {
      method: 'PUT',
      body: 'l',
      headers: { 'Content-Type': type },
    });
    expect(res.status).toBe(201);
    await a.fetch('/v1/sessions/latin-type/seal', { method: 'POST' });
    const r = await importTar(b, await exportTar(a, 'latin-type'));
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    const got = await b.fetch('/v1/sessions/latin-type/artifacts/l.txt');
    expect(got.headers.get('content-type')).toBe(type);
  });

  it('serves such a type already stored (an older import) as bytes instead of failing', async () => {
    const rec = await push(a, 'odd-stored', 'a.txt', 'a');
    (a.app.catalog as unknown as { db: { prepare(q: string): { run(id: string): unknown } } }).db
      .prepare("UPDATE artifacts SET content_type = 'text/pl' || char(256) || 'ain' WHERE id = ?")
      .run(rec.id);
    const res = await a.fetch(`/v1/artifacts/${rec.id}/content`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/octet-stream');
    expect(await res.text()).toBe('a');
  });

  it('then imports the genuine tar', async () => {
    expect((await importTar(b, good)).status).toBe(201);
  });
});
