import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { constants, homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { CairnError } from '../lib/errors.js';

/** Environment variable naming the directory the native binding is written to and loaded from. */
export const NATIVE_DIR_ENV = 'CAIRN_NATIVE_DIR';

/** Options for {@link loadNativeBinding}. */
export interface NativeBindingOptions {
  /** The shared object's bytes (the SEA asset). */
  bytes: Uint8Array;
  /** File name stem, e.g. `better_sqlite3`. */
  name: string;
  /** Environment to read `CAIRN_NATIVE_DIR`, `XDG_CACHE_HOME`, `HOME` from (default process.env). */
  env?: NodeJS.ProcessEnv;
}

/**
 * Writes `bytes` to `<cache dir>/<name>-<sha256 prefix>.node` unless a file with those exact
 * bytes is already there, then loads it with `process.dlopen` and returns its exports.
 *
 * The cache dir is `$CAIRN_NATIVE_DIR` if set, else the first of
 * `$XDG_CACHE_HOME/cairn/native`, `~/.cache/cairn/native` and `<tmpdir>/cairn-<uid>/native`
 * where the file can be written and loaded (so a `noexec` home falls through to the next).
 * The file is keyed by its hash and written to a unique temp file, fsynced and renamed into
 * place, so any number of processes may start at once: each rename installs identical bytes
 * and a process that already mapped the file keeps its copy. A directory Cairn creates is
 * 0700; a directory writable by other users is refused.
 *
 * Throws a {@link CairnError} `native_binding_unavailable` that lists each directory's failure
 * and says what to do (set `CAIRN_NATIVE_DIR`; a `noexec` mount being the usual cause).
 */
export function loadNativeBinding(opts: NativeBindingOptions): unknown {
  const sha = createHash('sha256').update(opts.bytes).digest('hex');
  const file = `${opts.name}-${sha.slice(0, 32)}.node`;
  const failures: string[] = [];
  for (const dir of nativeCacheDirs(opts.env ?? process.env)) {
    let path: string;
    try {
      path = install(dir, file, opts.bytes, sha);
    } catch (err) {
      failures.push(`cannot write to ${dir}: ${(err as Error).message}`);
      continue;
    }
    const mod = { exports: {} as unknown };
    try {
      process.dlopen(mod, path, constants.dlopen.RTLD_NOW);
      if (mod.exports && typeof mod.exports === 'object') files.set(mod.exports, path);
      return mod.exports;
    } catch (err) {
      failures.push(`cannot load ${path}: ${(err as Error).message}`);
    }
  }
  throw new CairnError(
    'native_binding_unavailable',
    500,
    `could not set up the embedded SQLite binding (${failures.join('; ')}). Set ` +
      `${NATIVE_DIR_ENV} to a private directory Cairn may write to, on a filesystem that ` +
      'allows executing code (not mounted noexec).',
  );
}

const files = new WeakMap<object, string>();

/**
 * The file a binding returned by {@link loadNativeBinding} was loaded from (undefined for
 * anything else): worker threads load it again from there, each into its own context.
 */
export function nativeBindingFile(binding: unknown): string | undefined {
  return binding && typeof binding === 'object' ? files.get(binding) : undefined;
}

/** The candidate cache directories, most preferred first. */
export function nativeCacheDirs(env: NodeJS.ProcessEnv): string[] {
  if (env[NATIVE_DIR_ENV]) return [env[NATIVE_DIR_ENV]];
  const dirs: string[] = [];
  if (env.XDG_CACHE_HOME) dirs.push(join(env.XDG_CACHE_HOME, 'cairn', 'native'));
  const home = env.HOME || safeHomedir();
  if (home) dirs.push(join(home, '.cache', 'cairn', 'native'));
  dirs.push(join(tmpdir(), `cairn-${process.getuid?.() ?? 'user'}`, 'native'));
  return dirs;
}

/** Puts the file into `dir` (unless it holds those bytes already); returns its path. */
function install(dir: string, file: string, bytes: Uint8Array, sha: string): string {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  checkPrivate(dir);
  const path = join(dir, file);
  if (!holds(path, sha)) writeAtomically(path, bytes);
  return path;
}

/** Refuses a directory another user could swap the shared object in. */
function checkPrivate(dir: string): void {
  const st = fs.statSync(dir);
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid)
    throw new Error(`owned by uid ${st.uid}, not by this user (${uid})`);
  if (st.mode & 0o022) throw new Error('writable by other users');
}

/** Does `path` exist with exactly the bytes hashing to `sha`? */
function holds(path: string, sha: string): boolean {
  try {
    return createHash('sha256').update(fs.readFileSync(path)).digest('hex') === sha;
  } catch {
    return false;
  }
}

function writeAtomically(path: string, bytes: Uint8Array): void {
  const tmp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    const fd = fs.openSync(tmp, 'wx', 0o700);
    try {
      fs.writeSync(fd, bytes);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, path);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}

function safeHomedir(): string | undefined {
  try {
    return homedir();
  } catch {
    return undefined;
  }
}
