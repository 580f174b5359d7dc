import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  readdirSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { CLI, spawnServer, tempDir, type ServerProcess } from '../helpers/server.js';

let server: ServerProcess;
let work: string;
let env: NodeJS.ProcessEnv;
const cli = (args: string[]) => runCli(args, { env, cwd: work });

interface Rec {
  name: string;
  version: number;
  sha256: string;
}

async function pushJson(args: string[]): Promise<{ recs: Rec[]; stderr: string }> {
  const r = await cli(['push', ...args, '--json']);
  expect(r.code, r.stderr).toBe(0);
  return { recs: JSON.parse(r.stdout) as Rec[], stderr: r.stderr };
}

/** Every live artifact of a session (all versions), through the HTTP API. */
async function artifacts(session: string): Promise<Rec[]> {
  const r = await fetch(`${server.url}/v1/sessions/${session}`, {
    headers: { Authorization: `Bearer ${server.token}` },
  });
  if (r.status === 404) return [];
  return ((await r.json()) as { artifacts: Rec[] }).artifacts;
}

/** A tree of `n` small files spread over 20 directories. */
function tree(dir: string, n: number, salt = ''): void {
  for (let i = 0; i < n; i++) {
    const sub = join(dir, `d${i % 20}`);
    mkdirSync(sub, { recursive: true });
    writeFileSync(join(sub, `f${i}.json`), JSON.stringify({ i, salt, pad: 'x'.repeat(900) }));
  }
}

beforeAll(async () => {
  const root = tempDir();
  server = await spawnServer(join(root, 'data'));
  work = join(root, 'work');
  mkdirSync(work);
  env = { CAIRN_URL: server.url, CAIRN_TOKEN: server.token };
});
afterAll(async () => server.stop());

describe('cairn push DIR (batches)', () => {
  it('pushes 1,200 files in batches, every one intact under its relative name', async () => {
    tree(join(work, 'many'), 1200);
    const { recs } = await pushJson(['many', '--session', 'many']);
    expect(recs).toHaveLength(1200);
    const stored = await artifacts('many');
    expect(stored).toHaveLength(1200);
    const f7 = stored.find((a) => a.name === 'd7/f7.json');
    const bytes = JSON.stringify({ i: 7, salt: '', pad: 'x'.repeat(900) });
    expect(f7?.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    const got = await fetch(`${server.url}/v1/sessions/many/artifacts/d7/f7.json`, {
      headers: { Authorization: `Bearer ${server.token}` },
    });
    expect(await got.text()).toBe(bytes);
  });

  it('--sync makes no new version of unchanged files and pushes only what changed', async () => {
    tree(join(work, 'synced'), 300);
    await pushJson(['synced', '--session', 'synced', '--sync']);
    const again = await pushJson(['synced', '--session', 'synced', '--sync']);
    expect(again.recs).toEqual([]);
    expect(again.stderr).toContain('300 file(s) unchanged');
    writeFileSync(join(work, 'synced', 'd3', 'f3.json'), 'changed');
    writeFileSync(join(work, 'synced', 'new.txt'), 'new');
    const third = await pushJson(['synced', '--session', 'synced', '--sync']);
    expect(third.recs.map((r) => [r.name, r.version]).sort()).toEqual([
      ['d3/f3.json', 2],
      ['new.txt', 1],
    ]);
    expect(await artifacts('synced')).toHaveLength(302);
    // Without --sync every file gets a new version, as before.
    const plain = await pushJson(['synced', '--session', 'synced']);
    expect(plain.recs).toHaveLength(301);
  });

  it('push FILE --sync --json answers a JSON record saying the unchanged file was skipped', async () => {
    writeFileSync(join(work, 'one.txt'), 'same bytes');
    const first = await cli(['push', 'one.txt', '--session', 'one', '--sync', '--json']);
    expect(first.code, first.stderr).toBe(0);
    const pushed = JSON.parse(first.stdout) as Rec;
    expect(pushed).toMatchObject({ name: 'one.txt', version: 1 });
    const again = await cli(['push', 'one.txt', '--session', 'one', '--sync', '--json']);
    expect(again.code, again.stderr).toBe(0);
    // Was `undefined`: not JSON at all.
    expect(JSON.parse(again.stdout)).toEqual({
      session: 'one',
      name: 'one.txt',
      sha256: pushed.sha256,
      skipped: true,
      reason: 'unchanged',
    });
    expect(again.stderr).toContain('1 file(s) unchanged');
    expect(await artifacts('one')).toHaveLength(1);
    // The same through --checksum (every file hashed, nothing remembered trusted).
    const checked = await cli(['push', 'one.txt', '-s', 'one', '--sync', '--checksum', '--json']);
    expect(JSON.parse(checked.stdout)).toMatchObject({ name: 'one.txt', skipped: true });
  });

  it('--exclude leaves out files by name and paths by pattern', async () => {
    const d = join(work, 'ex');
    mkdirSync(join(d, 'build', 'deep'), { recursive: true });
    mkdirSync(join(d, 'src'), { recursive: true });
    writeFileSync(join(d, 'src', 'a.ts'), 'a');
    writeFileSync(join(d, 'src', 'debug.log'), 'log');
    writeFileSync(join(d, 'build', 'deep', 'out.js'), 'o');
    writeFileSync(join(d, 'top.log'), 'log');
    const { recs } = await pushJson([
      'ex',
      '--session',
      'ex',
      '--exclude',
      '*.log',
      '--exclude',
      'build',
    ]);
    expect(recs.map((r) => r.name)).toEqual(['src/a.ts']);
    const byPath = await pushJson(['ex', '--session', 'ex2', '--exclude', 'src/*']);
    expect(byPath.recs.map((r) => r.name)).toEqual(['build/deep/out.js', 'top.log']);
  });

  it('a file the server refuses fails its whole batch: nothing of it is visible', async () => {
    const d = join(work, 'badname');
    mkdirSync(d);
    writeFileSync(join(d, 'a.txt'), 'a');
    writeFileSync(join(d, 'b\u0007.txt'), 'bell');
    writeFileSync(join(d, 'c.txt'), 'c');
    const r = await cli(['push', 'badname', '--session', 'badname']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('control characters');
    expect(await artifacts('badname')).toEqual([]);
  });

  it('a refused second batch says how many files the first one pushed, and --sync sends the rest', async () => {
    const d = join(work, 'twobatches');
    tree(d, 600);
    // Sorted last, so in the second batch of 500.
    writeFileSync(join(d, 'z\u0007.txt'), 'bell');
    const r = await cli(['push', 'twobatches', '--session', 'twobatches']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('control characters');
    expect(r.stderr).toContain('500 file(s) of other batches were pushed and stay');
    expect(await artifacts('twobatches')).toHaveLength(500);
    rmSync(join(d, 'z\u0007.txt'));
    const rest = await pushJson(['twobatches', '--session', 'twobatches', '--sync']);
    expect(rest.recs).toHaveLength(100);
    expect(await artifacts('twobatches')).toHaveLength(600);
  });

  it('streams a large file of a directory on its own, next to the batched small ones', async () => {
    const d = join(work, 'mixed');
    mkdirSync(d);
    const big = Buffer.alloc(9 * 1024 * 1024, 1);
    writeFileSync(join(d, 'big.bin'), big);
    writeFileSync(join(d, 'small.txt'), 's');
    const { recs } = await pushJson(['mixed', '--session', 'mixed']);
    expect(recs.map((r) => r.name)).toEqual(['big.bin', 'small.txt']);
    expect(recs[0].sha256).toBe(createHash('sha256').update(big).digest('hex'));
  });

  it('shows files, bytes, rate and ETA on a terminal', async () => {
    tree(join(work, 'tty'), 50);
    // script(1) runs the CLI on a pseudo-terminal and copies what it drew to stdout.
    const cmd = `${process.execPath} ${CLI} push tty --session tty`;
    const out = await new Promise<string>((resolve, reject) => {
      const child = spawn('script', ['-qec', cmd, '/dev/null'], {
        cwd: work,
        env: { ...process.env, ...env },
      });
      let text = '';
      child.stdout.on('data', (c: Buffer) => (text += c.toString()));
      child.on('error', reject);
      child.on('close', () => resolve(text));
    });
    expect(out).toMatch(/50\/50 files\s+\S+ \S+\/\S+ \S+\s+\S+ \S+\/s/);
    expect(out).toContain('ETA');
    expect((await artifacts('tty')).length).toBe(50);
  });
});

describe('cairn pull SESSION -o DIR (one streamed request)', () => {
  it('pulls every latest file of a 1,200-file session, byte-identical', async () => {
    const r = await cli(['pull', 'many', '-o', 'many-back', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as unknown[]).length).toBe(1200);
    for (const i of [0, 7, 599, 1199]) {
      const rel = join(`d${i % 20}`, `f${i}.json`);
      expect(readFileSync(join(work, 'many-back', rel), 'utf8')).toBe(
        readFileSync(join(work, 'many', rel), 'utf8'),
      );
    }
  });

  it('reports each name the filesystem cannot hold and still writes the rest', async () => {
    const long = 'L'.repeat(300);
    for (const [name, body] of [
      ['ok.txt', 'ok'],
      [`deep/${long}.txt`, 'too long'],
      ['x', 'a file x'],
      ['x/y', 'x as a folder'],
      ['z.txt', 'z'],
    ]) {
      const put = await fetch(`${server.url}/v1/sessions/odd/artifacts/${name}`, {
        method: 'PUT',
        body,
        headers: { Authorization: `Bearer ${server.token}` },
      });
      expect(put.status).toBe(201);
    }
    const r = await cli(['pull', 'odd', '-o', 'odd-back']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`could not write deep/${long}.txt: a part of its name is longer`);
    expect(r.stderr).toMatch(/could not write x(\/y)?: a (file|folder)/);
    expect(r.stderr).toContain('2 of 5 file(s) could not be written');
    expect(readFileSync(join(work, 'odd-back', 'ok.txt'), 'utf8')).toBe('ok');
    expect(readFileSync(join(work, 'odd-back', 'z.txt'), 'utf8')).toBe('z');
    expect(readdirSync(join(work, 'odd-back')).filter((f) => f.includes('.part'))).toEqual([]);
  });

  it('never writes through a symbolic link planted in the directory, and still writes the rest', async () => {
    for (const name of ['sub/a.txt', 'sub/new/b.txt', 'ok.txt']) {
      const put = await fetch(`${server.url}/v1/sessions/planted/artifacts/${name}`, {
        method: 'PUT',
        body: name,
        headers: { Authorization: `Bearer ${server.token}` },
      });
      expect(put.status).toBe(201);
    }
    const outside = join(work, 'outside');
    mkdirSync(outside);
    mkdirSync(join(work, 'planted-back'));
    symlinkSync(outside, join(work, 'planted-back', 'sub'));
    const r = await cli(['pull', 'planted', '-o', 'planted-back']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('could not write sub/a.txt: a symbolic link');
    expect(r.stderr).toContain('2 of 3 file(s) could not be written');
    expect(readdirSync(outside)).toEqual([]);
    expect(existsSync(join(outside, 'new'))).toBe(false);
    expect(readFileSync(join(work, 'planted-back', 'ok.txt'), 'utf8')).toBe('ok.txt');
  });
});
