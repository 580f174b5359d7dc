import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readmeShellBlocks } from '../docs/readme-blocks.js';
import { ROOT, tempDir } from '../helpers/server.js';
import { BINARY, bareEnv, copyBinaryInto } from './binary-harness.js';

// The README's "Single binary" section, run as written: its build command, then its block of
// commands in a directory holding only the copied binary (servers on a free port), and the
// benchmark it names, in quick mode.

let root: string;
let server: ChildProcess | undefined;

beforeAll(() => {
  const [build] = readmeShellBlocks('Single binary');
  const r = spawnSync('bash', ['-euo', 'pipefail', '-c', build], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`README build block failed:\n${r.stdout}\n${r.stderr}`);
  root = tempDir('cairn-binary-readme-');
}, 900_000);

afterAll(async () => {
  await stop();
  rmSync(root, { recursive: true, force: true });
});

async function stop(): Promise<void> {
  const s = server;
  server = undefined;
  if (!s || s.exitCode !== null) return;
  const exited = new Promise((r) => s.on('exit', r));
  s.kill('SIGTERM');
  await exited;
}

/** Starts a README `serve` line (exec'd by bash, so the server is the child) on a free port. */
function startServeLine(line: string, cwd: string, env: NodeJS.ProcessEnv): Promise<string> {
  const child = spawn('bash', ['-c', line.replace('./cairn', 'exec ./cairn')], {
    cwd,
    env: { ...env, CAIRN_PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  server = child;
  let out = '';
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (\S+)/.exec(out);
      if (m && out.includes('admin token')) resolve(m[1]);
    });
    child.on('exit', (code) => reject(new Error(`'${line}' exited with ${code}: ${out}`)));
  });
}

describe('README: Single binary', () => {
  it('npm run build:binary wrote dist/cairn', () => {
    expect(existsSync(BINARY)).toBe(true);
  });

  it('the commands on the target machine run as written', async () => {
    const [, use] = readmeShellBlocks('Single binary');
    const dir = join(root, 'target');
    const home = join(root, 'home');
    mkdirSync(home, { recursive: true });
    copyBinaryInto(dir);
    const env = bareEnv(home);
    let url: string | undefined;
    let printed = '';
    for (const line of use.split('\n').filter((l) => l.trim() && !l.startsWith('#'))) {
      if (/\.\/cairn serve/.test(line)) {
        await stop();
        url = await startServeLine(line, dir, env);
        continue;
      }
      const r = spawnSync('bash', ['-euo', 'pipefail', '-c', line], {
        cwd: dir,
        env: url ? { ...env, CAIRN_URL: url } : env,
        encoding: 'utf8',
      });
      expect(r.status, `${line}\n${r.stderr}`).toBe(0);
      printed += r.stdout;
    }
    expect(printed).toMatch(/^cairn \d+\.\d+\.\d+ \(commit [0-9a-f]{12}(-dirty)?, node v22\./m);
    expect(printed).toContain('agent=claude-sonnet pipeline=billing');
    // The first serve used the fresh HOME's cache; the last one CAIRN_NATIVE_DIR.
    expect(readdirSync(join(home, '.cache', 'cairn', 'native'))).toHaveLength(1);
    expect(readdirSync(join(dir, 'cairn-native'))).toHaveLength(1);
    // Everything beside the binary is what the commands made.
    expect(readdirSync(dir).sort()).toEqual(['cairn', 'cairn-data', 'cairn-native', 'output.json']);
  });

  it('the benchmark it names runs (quick mode) and reports size, glibc and start times', () => {
    const out = join(root, 'bench-out');
    const r = spawnSync(process.execPath, [join(ROOT, 'bench', 'binary.mjs'), '--quick'], {
      cwd: ROOT,
      env: { ...process.env, BENCH_OUT: out },
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).toBe(0);
    const res = JSON.parse(readFileSync(join(out, 'binary.json'), 'utf8')) as {
      node_inside: string;
      size_bytes: number;
      requires: { executable: { glibc: string }; better_sqlite3_node: { glibc: string } };
      version_start: { median_ms: number };
      serve_ready_cold: { healthz: { median_ms: number } };
    };
    expect(res.node_inside).toMatch(/^v22\./);
    expect(res.size_bytes).toBeGreaterThan(50 * 1024 ** 2);
    expect(res.requires.executable.glibc).toMatch(/^2\.\d+$/);
    expect(res.requires.better_sqlite3_node.glibc).toMatch(/^2\.\d+$/);
    expect(res.version_start.median_ms).toBeGreaterThan(0);
    expect(res.serve_ready_cold.healthz.median_ms).toBeGreaterThan(0);
  }, 300_000);
});
