import { createWriteStream, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { IncomingMessage } from 'node:http';
import type { CommandModule } from 'yargs';
import { CliError, EXIT, clientFor, isDash, output, type GlobalArgs } from '../context.js';
import { pullSession } from '../pull-session.js';
import { isDirectory, progressBar } from '../util.js';
import type { ArtifactRecord } from '../../core/types.js';
import { HashingStream } from '../../lib/hashing-stream.js';

interface PullArgs extends GlobalArgs {
  target: string;
  output?: string;
  version?: number;
  force: boolean;
}

const ID_RE = /^a_[0-9A-Z]{26}$/;

/** `cairn pull`: one artifact (by id or SESSION/NAME) or a whole session's latest artifacts. */
export const pullCommand: CommandModule<GlobalArgs, PullArgs> = {
  command: 'pull <target>',
  describe: 'Download SESSION/NAME, an artifact ID, or every latest artifact of SESSION',
  builder: (y) =>
    y
      .positional('target', { type: 'string', demandOption: true })
      .option('output', {
        alias: 'o',
        type: 'string',
        describe: 'File (or directory for a session); - for stdout',
      })
      .option('version', { type: 'number', describe: 'Version to pull (default latest)' })
      .option('force', {
        alias: 'f',
        type: 'boolean',
        default: false,
        describe: 'Replace files that already exist',
      }),
  handler: async (args) => {
    const client = clientFor(args);
    const t = args.target;
    checkVersion(args, ID_RE.test(t) || !t.includes('/'));
    let records: ArtifactRecord[];
    let single = true;
    if (ID_RE.test(t)) records = [await client.artifact(t)];
    else if (t.includes('/')) {
      const i = t.indexOf('/');
      const res = await client.download(t.slice(0, i), t.slice(i + 1), args.version);
      res.resume();
      records = [await client.artifact(String(res.headers['x-cairn-artifact-id']))];
    } else {
      single = false;
      const s = await client.session(t);
      const latest = new Map<string, ArtifactRecord>();
      for (const a of s.artifacts) latest.set(a.name, a);
      records = [...latest.values()];
    }
    if (isDash(args.output)) {
      if (!single)
        throw new CliError('a whole session cannot go to stdout; give -o DIR', EXIT.usage);
      // Checked as it streams: what already went out cannot be held back, but the exit code and
      // the message say to discard it.
      const v = verifier(records[0]);
      await pipeline(await client.downloadById(records[0].id), v.meter, process.stdout);
      v.check('did not match its sha256: discard what was written to stdout');
      return;
    }
    const written: { id: string; name: string; path: string; size: number }[] = [];
    const targets = records.map((rec) => {
      const base = rec.name.split('/').pop() ?? rec.id;
      const path = single
        ? resolve(args.output ?? base)
        : resolve(args.output ?? t, ...rec.name.split('/'));
      // Into an existing directory, as cp does.
      return { rec, path: single && isDirectory(path) ? join(path, base) : path };
    });
    // All of them before any download: a pull either writes everything or replaces nothing.
    const existing = targets.filter((x) => existsSync(x.path)).map((x) => x.path);
    if (existing.length && !args.force)
      throw new CliError(
        `${existing.slice(0, 3).join(', ')}${existing.length > 3 ? ` and ${existing.length - 3} more` : ''} ` +
          `already exist${existing.length === 1 ? 's' : ''}: pass --force to replace, or -o another path`,
      );
    if (!single) {
      const dir = args.output ?? t;
      const totals = { files: records.length, bytes: records.reduce((n, r) => n + r.size, 0) };
      const { written, failed } = await pullSession(client, t, dir, totals);
      for (const f of failed)
        process.stderr.write(`cairn: could not write ${f.name}: ${f.reason}\n`);
      output(args, written, () => written.map((w) => `${w.name} -> ${w.path}`).join('\n'));
      if (failed.length > 0)
        throw new CliError(
          `${failed.length} of ${failed.length + written.length} file(s) could not be written (see above); the others are in ${dir}`,
        );
      return;
    }
    for (const { rec, path } of targets) {
      // Before the download starts: a response left unread would hold the process open.
      prepareDir(dirname(path));
      await save(await client.downloadById(rec.id), rec, path);
      written.push({ id: rec.id, name: rec.name, path, size: rec.size });
    }
    output(args, single ? written[0] : written, () =>
      written.map((w) => `${w.name} -> ${w.path}`).join('\n'),
    );
  },
};

/** --version names a version of SESSION/NAME: a whole number, and only with such a target. */
function checkVersion(args: PullArgs, notByName: boolean): void {
  if (args.version === undefined) return;
  if (!Number.isSafeInteger(args.version) || args.version < 1)
    throw new CliError('--version must be a whole number from 1 up', EXIT.usage);
  if (notByName)
    throw new CliError(
      '--version goes with SESSION/NAME (an artifact id already names one version)',
      EXIT.usage,
    );
}

/** Creates `dir` (and its parents); a file in the way is a clear error. */
function prepareDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new CliError(`cannot write into ${dir} (${code}): is part of that path a file?`);
  }
}

/** Writes a download to `path` through a temp file, verifying size and sha256 first. */
async function save(res: IncomingMessage, rec: ArtifactRecord, path: string): Promise<void> {
  const tmp = join(dirname(path), `.${rec.id}.part`);
  const bar =
    rec.size > 8 * 1024 * 1024 && process.stderr.isTTY
      ? progressBar(rec.name, rec.size)
      : undefined;
  const v = verifier(rec, bar);
  try {
    await pipeline(res, v.meter, createWriteStream(tmp));
    bar?.done();
    v.check('did not match its sha256; nothing was written');
    renameSync(tmp, path);
  } finally {
    rmSync(tmp, { force: true });
  }
}

/**
 * A pass-through that hashes and counts a download of `rec`; `check(why)` then fails with
 * "download of NAME <why>" unless size and sha256 match the record.
 */
function verifier(rec: ArtifactRecord, progress?: (bytes: number) => void) {
  const meter = new HashingStream(progress);
  const check = (why: string): void => {
    if (!meter.matches(rec)) throw new CliError(`download of ${rec.name} ${why}`, EXIT.error);
  };
  return { meter, check };
}
