import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { checkCopy, describeStore, populate, type Populated } from '../helpers/populated-store.js';
import { CLI, startTestServer, tempDir, type TestServer } from '../helpers/server.js';

const open: TestServer[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function serve(config: Parameters<typeof startTestServer>[0]): Promise<TestServer> {
  const s = await startTestServer(config);
  open.push(s);
  return s;
}

/** A populated running store, described, in a fresh temp root. */
async function source(): Promise<{ root: string; s: TestServer; p: Populated; before: unknown }> {
  const root = tempDir('cairn-restore-');
  dirs.push(root);
  const s = await serve({ dataDir: join(root, 'src') });
  const p = await populate(s);
  return { root, s, p, before: await describeStore(s, p) };
}

async function restoreAndCheck(args: string[], dataDir: string, p: Populated, before: unknown) {
  const r = await runCli(['restore', ...args]);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toMatch(/^restored 4 session\(s\), 8 artifact\(s\), 2 token\(s\), 1 share\(s\)/);
  const t = await serve({ dataDir });
  expect(await describeStore(t, p)).toEqual(before);
  await checkCopy(t, p);
  await open.pop()?.close();
}

describe('cairn backup and cairn restore (logical format)', () => {
  it('round-trips a populated store through a backup file, into a data dir and from stdin', async () => {
    const { root, s, p, before } = await source();
    const file = join(root, 'store.tar');
    const env = { CAIRN_URL: s.url, CAIRN_TOKEN: s.token };
    const b = await runCli(['backup', file], { env });
    expect(b.code, b.stderr).toBe(0);
    expect(b.stdout).toMatch(/^backed up 4 session\(s\), 8 artifact\(s\), 7 blob\(s\)/);
    const exists = await runCli(['backup', file], { env });
    expect(exists.code).toBe(2);
    expect(exists.stderr).toContain('exists; give a new file name');

    await restoreAndCheck([file, '--to', join(root, 'a')], join(root, 'a'), p, before);
    const fromStdin = await runCli(['restore', '-', '--to', join(root, 'b')], {
      input: readFileSync(file),
    });
    expect(fromStdin.code, fromStdin.stderr).toBe(0);
    const t = await serve({ dataDir: join(root, 'b') });
    expect(await describeStore(t, p)).toEqual(before);
  });

  it('refuses a damaged backup and names what is wrong', async () => {
    const { root, s } = await source();
    const file = join(root, 'store.tar');
    await runCli(['backup', file], { env: { CAIRN_URL: s.url, CAIRN_TOKEN: s.token } });
    const tar = Buffer.from(readFileSync(file));
    // A byte flipped inside the large blob's body: its sha256 no longer matches its name.
    const at = tar.indexOf(Buffer.from('blobs/')) + 512 + 1000;
    tar[at + 100_000] ^= 0xff;
    writeFileSync(join(root, 'bad.tar'), tar);
    const bad = await runCli(['restore', join(root, 'bad.tar'), '--to', join(root, 'x')]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/blob [0-9a-f]{64} of the backup is corrupted/);
    const cut = await runCli(['restore', '-', '--to', join(root, 'y')], {
      input: readFileSync(file).subarray(0, tar.length - 3000),
    });
    expect(cut.code).not.toBe(0);
    expect(cut.stderr).toMatch(/ends early|broke off/);
  });
});

describe('cairn backup of a busy server', () => {
  it('is one consistent point in time under concurrent pushes and deletes', async () => {
    const root = tempDir('cairn-restore-');
    dirs.push(root);
    const s = await serve({ dataDir: join(root, 'src') });
    const before: { id: string; sha256: string }[] = [];
    for (let i = 0; i < 30; i++) {
      const body = randomBytes(i % 3 === 0 ? 70_000 + i : 1000 + i); // blob files and inline
      const res = await s.fetch(`/v1/sessions/b${i % 3}/artifacts/f${i}.bin`, {
        method: 'PUT',
        body,
      });
      before.push((await res.json()) as { id: string; sha256: string });
    }
    let stop = false;
    const churn = (async () => {
      for (let i = 0; !stop; i++) {
        const res = await s.fetch(`/v1/sessions/churn/artifacts/c${i}.bin`, {
          method: 'PUT',
          body: randomBytes(i % 2 ? 500 : 80_000),
        });
        const rec = (await res.json()) as { id: string };
        if (i % 2) await s.fetch(`/v1/artifacts/${rec.id}`, { method: 'DELETE' });
        // Deleting what existed before the backup, all through it: any blob the snapshot lists
        // must still be there to copy when the backup reaches it.
        if (i < before.length) await s.fetch(`/v1/artifacts/${before[i].id}`, { method: 'DELETE' });
      }
    })();
    const file = join(root, 'busy.tar');
    const b = await runCli(['backup', file], { env: { CAIRN_URL: s.url, CAIRN_TOKEN: s.token } });
    stop = true;
    await churn;
    expect(b.code, b.stderr).toBe(0);
    const r = await runCli(['restore', file, '--to', join(root, 'dst')]);
    expect(r.code, r.stderr).toBe(0);
    const t = await serve({ dataDir: join(root, 'dst') });
    const fsck = await runCli(['fsck'], { env: { CAIRN_URL: t.url, CAIRN_TOKEN: t.token } });
    expect(fsck.code, fsck.stdout).toBe(0);
    const listed = (await (await t.fetch('/v1/artifacts?limit=1000')).json()) as {
      items: { id: string; sha256: string }[];
    };
    expect(listed.items.length).toBeGreaterThan(0);
    for (const a of listed.items) {
      const res = await t.fetch(`/v1/artifacts/${a.id}/content`);
      expect(res.status).toBe(200);
      const got = createHash('sha256').update(Buffer.from(await res.arrayBuffer()));
      expect(got.digest('hex')).toBe(a.sha256);
    }
  });

  it('leaves no file behind when the server refuses', async () => {
    const { root, s } = await source();
    const token = (await (
      await s.fetch('/v1/tokens', { method: 'POST', body: JSON.stringify({ scope: 'read' }) })
    ).json()) as { token: string };
    const r = await runCli(['backup', join(root, 'x.tar')], {
      env: { CAIRN_URL: s.url, CAIRN_TOKEN: token.token },
    });
    expect(r.code).toBe(5);
    expect(existsSync(join(root, 'x.tar')) || existsSync(join(root, 'x.tar.part'))).toBe(false);
  });
});

describe('cairn restore of a backup made before the logical format', () => {
  it('restores a backup directory (cairn backup --sqlite) and a SQLite-file backup tar', async () => {
    const { root, s, p, before } = await source();
    const env = { CAIRN_URL: s.url, CAIRN_TOKEN: s.token };
    const old = await runCli(['backup', '--sqlite', join(root, 'olddir')], { env });
    expect(old.code, old.stderr).toBe(0);
    expect(existsSync(join(root, 'olddir', 'catalog.db'))).toBe(true);
    const res = await s.fetch('/v1/backup?format=sqlite');
    expect(res.status).toBe(200);
    writeFileSync(join(root, 'old.tar'), Buffer.from(await res.arrayBuffer()));

    await restoreAndCheck(
      [join(root, 'olddir'), '--to', join(root, 'a')],
      join(root, 'a'),
      p,
      before,
    );
    await restoreAndCheck(
      [join(root, 'old.tar'), '--to', join(root, 'b')],
      join(root, 'b'),
      p,
      before,
    );
  });
});

describe('a restore killed midway', () => {
  it('leaves a target that serve refuses and the same restore finishes', async () => {
    const { root, s, p, before } = await source();
    const file = join(root, 'store.tar');
    await runCli(['backup', file], { env: { CAIRN_URL: s.url, CAIRN_TOKEN: s.token } });
    const dst = join(root, 'dst');
    const tar = readFileSync(file);
    // Half the stream (inside the blobs, before the catalog), then kill -9 while it waits.
    const child = spawn(process.execPath, [CLI, 'restore', '-', '--to', dst], {
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    child.stdin.write(tar.subarray(0, Math.floor(tar.length / 2)));
    while (!existsSync(join(dst, 'restore.partial'))) await new Promise((r) => setTimeout(r, 20));
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;

    const refused = await runCli(['serve', '--data', dst, '--port', '0']);
    expect(refused.code).toBe(4);
    expect(refused.stderr).toContain('stopped midway (restore.partial is there)');
    const again = await runCli(['restore', file, '--to', dst]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('(finished a run that had stopped midway)');
    expect(existsSync(join(dst, 'restore.partial'))).toBe(false);
    const t = await serve({ dataDir: dst });
    expect(await describeStore(t, p)).toEqual(before);
    await checkCopy(t, p);
  });
});
