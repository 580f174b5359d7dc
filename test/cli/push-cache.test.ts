import { spawn } from 'node:child_process';
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliResult } from '../helpers/cli.js';
import { CLI, spawnServer, type ServerProcess } from '../helpers/server.js';

// The quick check (src/cli/hash-cache.ts): `push DIR --sync` does not read a file whose size,
// mtime, inode and device are those it had when last hashed. To prove a file was not read,
// these tests change its bytes and give it back its stamp, or make it unreadable.

let server: ServerProcess;
let root: string;
// As root, run the CLI without the capabilities that let root read a file whatever its mode
// (setpriv, util-linux): as another user it could not reach a clone in a 0700 directory.
const asRoot = process.getuid?.() === 0;
const DROP = '-dac_override,-dac_read_search';

/** Runs the CLI with the test's cache dir (as root: without its read-anything capabilities). */
function cli(args: string[], cache: string): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const argv = [process.execPath, CLI, ...args];
    const [cmd, ...rest] = asRoot
      ? ['setpriv', `--bounding-set=${DROP}`, `--inh-caps=${DROP}`, ...argv]
      : argv;
    const child = spawn(cmd, rest, {
      cwd: root,
      env: {
        ...process.env,
        CAIRN_URL: server.url,
        CAIRN_TOKEN: server.token,
        XDG_CACHE_HOME: cache,
      },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Pushes and returns the names pushed and what it printed. */
async function push(dir: string, session: string, cache: string, ...flags: string[]) {
  const r = await cli(['push', dir, '--session', session, '--json', ...flags], cache);
  expect(r.code, r.stderr).toBe(0);
  return { names: (JSON.parse(r.stdout) as { name: string }[]).map((a) => a.name), ...r };
}

/** How many versions of each name the session holds. */
async function versions(session: string): Promise<Record<string, number>> {
  const r = await fetch(`${server.url}/v1/sessions/${session}`, {
    headers: { Authorization: `Bearer ${server.token}` },
  });
  const out: Record<string, number> = {};
  for (const a of ((await r.json()) as { artifacts: { name: string }[] }).artifacts)
    out[a.name] = (out[a.name] ?? 0) + 1;
  return out;
}

const OLD = 1_700_000_000; // 2023: long before any push here, so remembered at once.

/** A directory of three files, all with mtime OLD, and a fresh cache dir. */
function setup(name: string): { dir: string; cache: string } {
  const dir = join(root, name);
  mkdirSync(join(dir, 'sub'), { recursive: true });
  for (const [f, body] of [
    ['a.txt', 'alpha'],
    ['b.txt', 'bravo'],
    ['sub/c.txt', 'charlie'],
  ]) {
    writeFileSync(join(dir, f), body);
    utimesSync(join(dir, f), OLD, OLD);
  }
  const cache = join(root, `${name}-cache`);
  mkdirSync(cache, { mode: 0o777 });
  chmodSync(cache, 0o777);
  return { dir: name, cache };
}

/** Rewrites a file in place with other bytes of the same size, then gives it back its mtime. */
function swapBytes(path: string, body: string): void {
  const before = statSync(path);
  writeFileSync(path, body);
  expect(statSync(path).size).toBe(before.size);
  expect(statSync(path).ino).toBe(before.ino);
  utimesSync(path, before.atime, before.mtime);
}

beforeAll(async () => {
  // Not under the run's private temp dir: nobody must be able to walk to it.
  root = mkdtempSync(join(tmpdir(), 'cairn-push-cache-'));
  chmodSync(root, 0o755);
  server = await spawnServer(join(root, 'data'));
});
afterAll(async () => {
  await server.stop();
  rmSync(root, { recursive: true, force: true });
});

describe('push DIR --sync remembers hashes (quick check)', () => {
  it('skips an unchanged file without reading it; --checksum reads every file', async () => {
    const { dir, cache } = setup('unread');
    expect((await push(dir, 'unread', cache)).names).toHaveLength(3);
    // Same size, same mtime, same inode: the quick check cannot see this change (as rsync).
    swapBytes(join(root, dir, 'a.txt'), 'ALPHA');
    const quick = await push(dir, 'unread', cache, '--sync');
    expect(quick.names).toEqual([]);
    expect(quick.stderr).toContain('3 file(s) unchanged');
    const full = await push(dir, 'unread', cache, '--sync', '--checksum');
    expect(full.names).toEqual(['a.txt']);
    expect(await versions('unread')).toEqual({ 'a.txt': 2, 'b.txt': 1, 'sub/c.txt': 1 });
    const alone = await cli(['push', dir, '-s', 'unread', '--checksum'], cache);
    expect(alone.code).toBe(2);
    expect(alone.stderr).toContain('--checksum goes with --sync');
  });

  it('an unreadable but unchanged file is skipped; --checksum fails on it, naming it', async () => {
    const { dir, cache } = setup('noread');
    await push(dir, 'noread', cache);
    const path = join(root, dir, 'b.txt');
    chmodSync(path, 0o000);
    utimesSync(path, OLD, OLD);
    try {
      const quick = await push(dir, 'noread', cache, '--sync');
      expect(quick.names).toEqual([]);
      const full = await cli(['push', dir, '-s', 'noread', '--sync', '--checksum'], cache);
      expect(full.code).toBe(1);
      expect(full.stderr).toContain(`cannot read '${join(dir, 'b.txt')}': permission denied`);
    } finally {
      chmodSync(path, 0o644);
    }
  });

  it('a file rewritten with the same size but a new mtime is pushed', async () => {
    const { dir, cache } = setup('samesize');
    await push(dir, 'samesize', cache);
    const path = join(root, dir, 'sub', 'c.txt');
    writeFileSync(path, 'CHARLIE');
    utimesSync(path, OLD + 60, OLD + 60);
    expect((await push(dir, 'samesize', cache, '--sync')).names).toEqual(['sub/c.txt']);
  });

  it('a touched file with the same bytes makes no new version, and is remembered again', async () => {
    const { dir, cache } = setup('touched');
    await push(dir, 'touched', cache);
    const path = join(root, dir, 'a.txt');
    utimesSync(path, OLD + 60, OLD + 60);
    expect((await push(dir, 'touched', cache, '--sync')).names).toEqual([]);
    expect(await versions('touched')).toEqual({ 'a.txt': 1, 'b.txt': 1, 'sub/c.txt': 1 });
    // Its new stamp was remembered: other bytes under that stamp now go unseen.
    swapBytes(path, 'ALPHA');
    expect((await push(dir, 'touched', cache, '--sync')).names).toEqual([]);
  });

  it('a file changed just before it was hashed is not trusted next time (racily clean)', async () => {
    const { dir, cache } = setup('racy');
    const path = join(root, dir, 'a.txt');
    // Changed within the last second (whole seconds, so that swapBytes restores it exactly).
    const now = Math.floor(Date.now() / 1000);
    utimesSync(path, now, now);
    await push(dir, 'racy', cache);
    swapBytes(path, 'ALPHA');
    expect((await push(dir, 'racy', cache, '--sync')).names).toEqual(['a.txt']);
  });

  it('still skips unread files after others were added and removed (found out of walk order)', async () => {
    const { dir, cache } = setup('reorder');
    for (const f of ['m.txt', 'sub/d.txt']) {
      writeFileSync(join(root, dir, f), 'x');
      utimesSync(join(root, dir, f), OLD, OLD);
    }
    await push(dir, 'reorder', cache);
    // Before the walk reaches the remembered paths: one new, one gone.
    writeFileSync(join(root, dir, '0-new.txt'), 'new');
    rmSync(join(root, dir, 'b.txt'));
    // After each change, other bytes under the same stamp: unseen if the cache still holds.
    swapBytes(join(root, dir, 'm.txt'), 'y');
    swapBytes(join(root, dir, 'sub/c.txt'), 'CHARLIE');
    const quick = await push(dir, 'reorder', cache, '--sync');
    expect(quick.names).toEqual(['0-new.txt']);
    expect(quick.stderr).toContain('4 file(s) unchanged');
    // The gone file is no longer remembered.
    const [file] = readdirSync(join(cache, 'cairn', 'push'));
    const text = readFileSync(join(cache, 'cairn', 'push', file), 'utf8');
    expect(text).toContain('"sub/d.txt"');
    expect(text).not.toContain('"b.txt"');
  });

  it('a file named next to an unchanged directory prints a list, as without --sync', async () => {
    const { dir, cache } = setup('beside');
    writeFileSync(join(root, 'beside.txt'), 'one');
    await push(dir, 'beside', cache);
    // The directory's files are left out as the walk finds them: only the named file is left.
    const r = await cli(['push', 'beside.txt', dir, '-s', 'beside', '--sync', '--json'], cache);
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { name: string }[]).map((a) => a.name)).toEqual(['beside.txt']);
    expect(r.stderr).toContain('3 file(s) unchanged');
  });

  it('an unchanged file whose name has a newer version elsewhere is pushed again', async () => {
    const { dir, cache } = setup('elsewhere');
    await push(dir, 'elsewhere', cache);
    // Another version of a.txt, pushed from another tree: the local file is no longer current.
    writeFileSync(join(root, 'other-a.txt'), 'other alpha');
    const other = await cli(['push', 'other-a.txt', '-s', 'elsewhere', '--name', 'a.txt'], cache);
    expect(other.code, other.stderr).toBe(0);
    const quick = await push(dir, 'elsewhere', cache, '--sync');
    expect(quick.names).toEqual(['a.txt']);
    expect(quick.stderr).toContain('2 file(s) unchanged');
    expect(await versions('elsewhere')).toEqual({ 'a.txt': 3, 'b.txt': 1, 'sub/c.txt': 1 });
  });

  it('a damaged cache is ignored (every file hashed) and rewritten', async () => {
    const { dir, cache } = setup('damaged');
    await push(dir, 'damaged', cache);
    const files = readdirSync(join(cache, 'cairn', 'push'));
    expect(files).toHaveLength(1);
    const file = join(cache, 'cairn', 'push', files[0]);
    const junk = ['{"format":1,"root":', '[]', '{"format":1,"root":"/elsewhere","files":{}}'];
    for (const [i, text] of junk.entries()) {
      writeFileSync(file, text);
      // Other bytes under the same stamp: seen only because the cache was not trusted.
      swapBytes(join(root, dir, 'b.txt'), ['BRAVO', 'bRAVO', 'brAVO'][i]);
      expect((await push(dir, 'damaged', cache, '--sync')).names).toEqual(['b.txt']);
    }
    expect((await versions('damaged'))['b.txt']).toBe(4);
    // Rewritten: the quick check works again.
    swapBytes(join(root, dir, 'b.txt'), 'bRaVo');
    expect((await push(dir, 'damaged', cache, '--sync')).names).toEqual([]);
  });
});
