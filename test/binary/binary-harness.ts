import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../helpers/server.js';

/** The single executable `npm run build:binary` writes. */
export const BINARY = join(ROOT, 'dist', 'cairn');

/**
 * Builds dist/cairn with the real build script (the native binding is cached under .tmp/ after
 * the first build, so later builds take seconds). Throws with the script's output on failure.
 */
export function buildBinary(): void {
  const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'build-binary.mjs')], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  if (r.status !== 0 || !existsSync(BINARY))
    throw new Error(`build:binary failed (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
}

/** Inputs of the binary: when dist/cairn is newer than all of them it need not be rebuilt. */
const INPUTS = ['src', 'scripts/build-binary.mjs', 'package.json', 'package-lock.json'];

function newestMtime(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(st.mtimeMs, ...readdirSync(path).map((name) => newestMtime(join(path, name))));
}

/** Builds dist/cairn unless it is newer than every source, the build script and the lockfile. */
export function ensureBinary(): void {
  const fresh =
    existsSync(BINARY) &&
    statSync(BINARY).mtimeMs > Math.max(...INPUTS.map((p) => newestMtime(join(ROOT, p))));
  if (!fresh) buildBinary();
}

/** Copies the binary, alone, into `dir` and returns its path there. */
export function copyBinaryInto(dir: string): string {
  mkdirSync(dir, { recursive: true });
  const dest = join(dir, 'cairn');
  copyFileSync(BINARY, dest);
  return dest;
}

/**
 * The only environment the binary gets: a stripped PATH and a fresh HOME (no node_modules, no
 * npm, nothing inherited from the test runner), plus `extra`.
 */
export function bareEnv(home: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { PATH: '/usr/bin:/bin', HOME: home, ...extra };
}

/** What one run printed and how it exited. */
export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the binary to completion. */
export function runBinary(
  bin: string,
  args: string[],
  opts: { cwd: string; env: NodeJS.ProcessEnv; input?: string },
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { cwd: opts.cwd, env: opts.env, stdio: 'pipe' });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(opts.input);
  });
}

/** A `cairn serve` started from the binary. */
export interface BinaryServer {
  child: ChildProcess;
  url: string;
  token: string;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

/**
 * Starts `<bin> serve --port 0 --data <dataDir>` (or `<bin> ...args`, which must serve from
 * `dataDir`) and resolves once it prints its address and admin token line.
 */
export function startBinaryServer(
  bin: string,
  opts: { cwd: string; env: NodeJS.ProcessEnv; dataDir: string; args?: string[] },
): Promise<BinaryServer> {
  const args = opts.args ?? ['serve', '--port', '0', '--data', opts.dataDir];
  const child = spawn(bin, args, {
    cwd: opts.cwd,
    env: opts.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  let out = '';
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`binary server did not start: ${out} ${err}`));
    }, 30_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (\S+)/.exec(out);
      if (!m || !/admin token/.test(out)) return;
      clearTimeout(timer);
      resolve({
        child,
        url: m[1],
        token: readFileSync(join(opts.dataDir, 'admin.token'), 'utf8').trim(),
        stop: () => {
          child.kill('SIGTERM');
          return exited;
        },
      });
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`binary server exited with ${code}: ${out} ${err}`));
    });
  });
}
