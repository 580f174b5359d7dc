import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { FsckReport } from '../../src/core/fsck-service.js';
import { runCli } from '../helpers/cli.js';
import { startTestServer, tempDir, type TestServer } from '../helpers/server.js';

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const open: TestServer[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function server(dataDir?: string): Promise<TestServer> {
  const s = await startTestServer(dataDir ? { dataDir } : {});
  open.push(s);
  return s;
}

async function push(s: TestServer, session: string, name: string, body: Buffer | string) {
  const res = await s.fetch(`/v1/sessions/${session}/artifacts/${name}`, { method: 'PUT', body });
  expect(res.status).toBe(201);
  return (await res.json()) as { id: string; sha256: string; size: number };
}

async function fsck(s: TestServer, repair = false): Promise<FsckReport> {
  const res = await s.fetch(`/v1/fsck${repair ? '?repair=true' : ''}`, { method: 'POST' });
  expect(res.status).toBe(200);
  return (await res.json()) as FsckReport;
}

const blobPath = (s: TestServer, h: string) =>
  join(s.dataDir, 'blobs', h.slice(0, 2), h.slice(2, 4), h);
const db = (s: TestServer) =>
  (s.app.catalog as unknown as { db: { prepare(q: string): { run(...a: unknown[]): unknown } } })
    .db;

describe('cairn fsck', () => {
  it('is clean on a healthy store and rehashes every blob', async () => {
    const s = await server();
    await push(s, 's1', 'a.txt', 'alpha');
    await push(s, 's1', 'b.txt', 'alpha'); // deduplicated
    await push(s, 's2', 'c.bin', randomBytes(100_000));
    const r = await fsck(s);
    expect(r).toMatchObject({ ok: true, problems_total: 0, blobs_checked: 2, blob_rows: 2 });
    expect(r.bytes_hashed).toBe(100_005);
  });

  it('finds every kind of damage; --repair fixes counts and orphans, never a referenced blob', async () => {
    const s = await server();
    // 100 KB: kept as files whatever small-blob storage the store may use.
    const corrupt = await push(s, 's1', 'corrupt.bin', randomBytes(100_000));
    const missing = await push(s, 's1', 'missing.bin', randomBytes(100_000));
    await push(s, 's1', 'v.txt', 'version 1');
    await push(s, 's1', 'v.txt', 'version 2');
    const counted = await push(s, 's2', 'counted.txt', 'refcount');
    // Damage: bytes flipped on disk, a file deleted, an orphan file, wrong derived counters.
    writeFileSync(blobPath(s, corrupt.sha256), 'garbage');
    rmSync(blobPath(s, missing.sha256));
    const orphan = sha('orphan bytes');
    mkdirSync(dirname(blobPath(s, orphan)), { recursive: true });
    writeFileSync(blobPath(s, orphan), 'orphan bytes');
    db(s).prepare('UPDATE blobs SET refs = 7 WHERE sha256 = ?').run(counted.sha256);
    db(s).prepare("UPDATE sessions SET artifact_count = 99 WHERE id = 's2'").run();
    db(s).prepare("UPDATE artifacts SET is_latest = 1 WHERE name = 'v.txt'").run();

    const check = await fsck(s);
    expect(check.ok).toBe(false);
    const kinds = check.problems.map((p) => `${p.kind}:${p.repaired}`).sort();
    expect(kinds).toEqual(
      [
        'corrupt:false',
        'latest:false',
        'missing:false',
        'orphan:false',
        'refcount:false',
        'session_counts:false',
      ].sort(),
    );
    expect(existsSync(blobPath(s, orphan))).toBe(true); // a check changes nothing

    const repaired = await fsck(s, true);
    expect(repaired.unrepaired).toBe(2); // the corrupt and the missing referenced blobs
    expect(existsSync(blobPath(s, orphan))).toBe(false);
    expect(existsSync(blobPath(s, corrupt.sha256))).toBe(true);
    const after = await fsck(s);
    expect(after.problems.map((p) => p.kind).sort()).toEqual(['corrupt', 'missing']);
    const v = await s.fetch('/v1/sessions/s1/artifacts/v.txt');
    expect(await v.text()).toBe('version 2');
  });

  it('runs from the CLI: exit 0 when clean, 1 with the problems listed when not', async () => {
    const s = await server();
    await push(s, 's1', 'a.txt', 'alpha');
    const env = { CAIRN_URL: s.url, CAIRN_TOKEN: s.token };
    const clean = await runCli(['fsck'], { env });
    expect(clean.code).toBe(0);
    expect(clean.stdout).toContain('clean: no problems found');
    const orphan = sha('stray');
    mkdirSync(dirname(blobPath(s, orphan)), { recursive: true });
    writeFileSync(blobPath(s, orphan), 'stray');
    const dirty = await runCli(['fsck'], { env });
    expect(dirty.code).toBe(1);
    expect(dirty.stdout).toContain(`orphan ${orphan}`);
    const fixed = await runCli(['fsck', '--repair'], { env });
    expect(fixed.code).toBe(0);
    expect(fixed.stdout).toContain('clean after repairing 1 problem(s)');
  });
});

describe('cairn backup --sqlite (a data dir with the catalog file copied)', () => {
  it('copies a running server under concurrent pushes and deletes; a fresh server starts from the copy', async () => {
    const s = await server();
    const before: { id: string; sha256: string }[] = [];
    for (let i = 0; i < 40; i++)
      before.push(await push(s, `b${i % 4}`, `f${i}.bin`, randomBytes(2000 + i)));
    // Over 64 KiB: blob files (the small ones are rows of catalog.db, copied with it).
    const big: { sha256: string }[] = [];
    for (let i = 0; i < 3; i++)
      big.push(await push(s, 'big', `g${i}.bin`, randomBytes(70_000 + i)));
    before.push(...(big as typeof before));
    await s.fetch('/v1/sessions/b0/seal', { method: 'POST' });
    const target = join(tempDir('cairn-backup-'), 'copy');
    dirs.push(dirname(target));
    let stop = false;
    const churn = (async () => {
      for (let i = 0; !stop; i++) {
        const rec = await push(s, 'churn', `c${i}.bin`, randomBytes(500));
        if (i % 2) await s.fetch(`/v1/artifacts/${rec.id}`, { method: 'DELETE' });
        // Deleting an artifact that existed before the backup: its bytes must stay readable.
        if (i === 3) await s.fetch(`/v1/artifacts/${before[5].id}`, { method: 'DELETE' });
      }
    })();
    const cli = await runCli(['backup', '--sqlite', target], {
      env: { CAIRN_URL: s.url, CAIRN_TOKEN: s.token },
    });
    stop = true;
    await churn;
    expect(cli.code, cli.stderr).toBe(0);
    expect(cli.stdout).toMatch(/backed up \d+ blob\(s\)/);
    expect(readdirSync(target).sort()).toEqual(['admin.token', 'blobs', 'catalog.db', 'seal.key']);
    const files = readdirSync(join(target, 'blobs'), { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => e.name);
    expect(files.sort()).toEqual(big.map((b) => b.sha256).sort());
    expect((await fsck(s)).ok).toBe(true);

    const restored = await server(target);
    expect(restored.token).toBe(s.token);
    expect((await fsck(restored)).problems).toEqual([]);
    for (const a of before.slice(6)) {
      const res = await restored.fetch(`/v1/artifacts/${a.id}/content`);
      expect(res.status).toBe(200);
      expect(sha(Buffer.from(await res.arrayBuffer()))).toBe(a.sha256);
    }
    const sealed = (await (await restored.fetch('/v1/sessions/b0')).json()) as { sealed: boolean };
    expect(sealed.sealed).toBe(true);
  });

  it('refuses a non-empty target directory', async () => {
    const s = await server();
    const target = tempDir('cairn-backup-');
    dirs.push(target);
    writeFileSync(join(target, 'something'), 'x');
    const cli = await runCli(['backup', '--sqlite', target], {
      env: { CAIRN_URL: s.url, CAIRN_TOKEN: s.token },
    });
    expect(cli.code).toBe(2);
    expect(cli.stderr).toContain('not empty');
  });

  it('refuses a file as target, and leaves no directory behind when the server refuses', async () => {
    const s = await server();
    const root = tempDir('cairn-backup-');
    dirs.push(root);
    const file = join(root, 'a-file');
    writeFileSync(file, 'x');
    const env = { CAIRN_URL: s.url, CAIRN_TOKEN: s.token };
    const onFile = await runCli(['backup', '--sqlite', file], { env });
    expect(onFile.code).toBe(2);
    expect(onFile.stderr).toContain('is a file');
    const tokenRes = await s.fetch('/v1/tokens', {
      method: 'POST',
      body: JSON.stringify({ scope: 'read' }),
      headers: { 'Content-Type': 'application/json' },
    });
    const { token } = (await tokenRes.json()) as { token: string };
    const target = join(root, 'copy');
    const refused = await runCli(['backup', '--sqlite', target], {
      env: { ...env, CAIRN_TOKEN: token },
    });
    expect(refused.code).toBe(5);
    expect(existsSync(target)).toBe(false);
  });
});
