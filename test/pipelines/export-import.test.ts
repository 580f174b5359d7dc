import { execFileSync } from 'node:child_process';
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forgeResigned } from '../helpers/forge-export.js';
import { startTestServer, tempDir, type TestServer } from '../helpers/server.js';
import { exportTar, firstEntry, importTar, makeTar, push } from './export-import-helpers.js';

let a: TestServer;
let b: TestServer;

beforeAll(async () => {
  [a, b] = await Promise.all([startTestServer(), startTestServer()]);
});
afterAll(async () => {
  await Promise.all([a.close(), b.close()]);
});

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

  it('then imports the genuine tar', async () => {
    expect((await importTar(b, good)).status).toBe(201);
  });
});
