import { statSync, type ReadStream } from 'node:fs';
import * as fsp from 'node:fs/promises';
import { CliError, EXIT } from './context.js';
import { parseDuration } from '../lib/duration.js';
import { formatBytes } from '../lib/size.js';
import { parseTime } from '../lib/time.js';

/** `k=v` words to metadata; exits with a usage error on a malformed pair. */
export function parseMetaArgs(pairs: string[]): Record<string, string> {
  const entries: [string, string][] = [];
  for (const p of pairs) {
    const eq = p.indexOf('=');
    if (eq <= 0) throw new CliError(`--meta '${p}' must look like key=value`, EXIT.usage);
    entries.push([p.slice(0, eq), p.slice(eq + 1)]);
  }
  // Own properties: a key such as __proto__ reaches the server (which says what is wrong).
  return Object.fromEntries(entries);
}

/**
 * For `push`, whose `--meta a=b c=d FILE` gives words without `=` back to the file list: the word
 * right after each `--meta`/`-m` must be a pair, so `--meta foo` is a usage error, not a file
 * named foo. Other commands take `--meta KEY` (the key is set) and are not checked.
 */
export function checkPushMeta(argv: string[]): void {
  const command = argv.find(
    (a, i) => !a.startsWith('-') && !['--url', '--token'].includes(argv[i - 1]),
  );
  if (command !== 'push') return;
  argv.forEach((a, i) => {
    const m = /^(--meta|-m)(?:=(.*))?$/.exec(a);
    if (!m) return;
    const value = m[2] ?? argv[i + 1];
    if (value === undefined || value.startsWith('-') || !value.includes('='))
      throw new CliError(
        `${m[1]} ${value === undefined ? '(nothing)' : `'${value}'`} must be key=value ` +
          '(several may follow one --meta: --meta a=1 b=2)',
        EXIT.usage,
      );
  });
}

/**
 * A yargs `coerce` for `flag`, whose value `check` validates (by throwing): a bad value, or the
 * flag given twice, is a usage error (exit 2) raised while the command line is parsed, before
 * anything is read or sent.
 */
export function checkedFlag<T>(flag: string, check: (value: T) => unknown): (value: T) => T {
  return (value) => {
    if (Array.isArray(value)) throw new CliError(`${flag} is given more than once`, EXIT.usage);
    asUsage(() => check(value));
    return value;
  };
}

/** Runs `fn`, which reads flags; what it throws becomes a usage error (exit 2). */
export function asUsage<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw new CliError((err as Error).message, EXIT.usage);
  }
}

/** `--ttl`-style flags: a duration such as 24h (see parseDuration). */
export const durationFlag = (flag: string) =>
  checkedFlag(flag, (v: string) => parseDuration(v, flag));

/** `--since`/`--until`: a time as the server reads it (see parseTime). */
export const timeFlag = (flag: string) =>
  checkedFlag(flag, (v: string) => parseTime(v, flag, Date.now()));

/** `--limit`: a page size the server accepts, 1 to 1000. */
export const limitFlag = checkedFlag('--limit', (n: number) => {
  if (!Number.isInteger(n) || n < 1 || n > 1000)
    throw new Error('--limit must be a whole number from 1 to 1000');
});

/** The line under a listing that has more pages: how to get the next one. */
export function morePages(nextCursor: string | null | undefined): string {
  return nextCursor ? `\n(more: the same command with --cursor ${nextCursor})` : '';
}

/** True if `path` is an existing directory (following symlinks). */
export function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/**
 * A local file opened for streaming; a missing file, a directory or a permission problem is a
 * usage error naming the file (not a failure blamed on the server).
 */
export async function openLocalFile(path: string): Promise<ReadStream> {
  let fh: fsp.FileHandle | undefined;
  try {
    fh = await fsp.open(path, 'r');
    if ((await fh.stat()).isDirectory())
      throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    return fh.createReadStream();
  } catch (err) {
    await fh?.close();
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EISDIR'
          ? 'it is a directory; give a .tar file'
          : code === 'EACCES'
            ? 'permission denied'
            : (err as Error).message;
    throw new CliError(`cannot read '${path}': ${why}`, EXIT.usage);
  }
}

/**
 * A progress callback drawing a one-line bar on stderr: percent, bytes, rate and time left
 * (`total` 0, a size not known: bytes, rate and time so far). Redrawn at most every 100 ms and at the end;
 * `done()` ends the line.
 */
export function progressBar(
  label: string,
  total: number,
  now: () => number = Date.now,
): ((done: number, force?: boolean) => void) & { done: () => void } {
  const started = now();
  let last = 0;
  let latest = 0;
  let drawn = false;
  const draw = (done: number, force = false) => {
    latest = done;
    const t = now();
    if (!force && t - last < 100 && (total <= 0 || done < total)) return;
    last = t;
    drawn = true;
    const seconds = Math.max((t - started) / 1000, 0.001);
    const rate = done / seconds;
    const left = total > done && rate > 0 ? (total - done) / rate : 0;
    const speed = `${formatBytes(Math.round(rate))}/s`;
    if (total <= 0) {
      // Size unknown (a stream): what came so far and how fast.
      process.stderr.write(
        `\r${label.slice(0, 30)} ${formatBytes(done)} ${speed} ${clock(seconds)}\u001b[K`,
      );
      return;
    }
    const pct = Math.min(100, Math.floor((done / total) * 100));
    const bar = '#'.repeat(Math.floor(pct / 4)).padEnd(25, '.');
    const eta = done >= total ? `in ${clock(seconds)}` : `${clock(left)} left`;
    process.stderr.write(
      `\r${label.slice(0, 30)} [${bar}] ${pct}% ${formatBytes(done)}/${formatBytes(total)} ` +
        `${speed} ${eta}\u001b[K`,
    );
  };
  return Object.assign(draw, {
    done: () => {
      if (!drawn) return;
      draw(latest, true); // the final figures, which the 100 ms throttle may have skipped
      process.stderr.write('\n');
    },
  });
}

/** Seconds as `42s`, `3m05s` or `1h02m`. */
export function clock(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
