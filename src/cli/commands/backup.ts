import { createHash } from 'node:crypto';
import { createWriteStream, promises as fsp } from 'node:fs';
import { join, resolve } from 'node:path';
import { PassThrough, Transform, Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { readBackupTar } from '../../core/backup-tar.js';
import type { LogicalManifest } from '../../lib/backup-format.js';
import type { CommandModule } from 'yargs';
import { formatBytes } from '../../lib/size.js';
import { extractBackup } from '../backup-extract.js';
import { CliError, EXIT, clientFor, isDash, output, type GlobalArgs } from '../context.js';
import { progressBar } from '../util.js';

interface BackupArgs extends GlobalArgs {
  out: string;
  sqlite: boolean;
}

/**
 * `cairn backup FILE|-` (admin): a consistent online backup of a running server, written as a
 * logical backup tar (format `cairn-backup-2`, backend-neutral: `cairn restore` brings it back
 * into any catalog) into FILE (which must not exist; written beside it, then renamed once
 * complete) or stdout. The stream is checked as it arrives (layout, every blob's sha256, the
 * closing end.json), so an interrupted or damaged one exits 1 and leaves no FILE.
 * `--sqlite` writes the older form instead: a data dir OUT (must be empty or not exist)
 * holding a copy of the SQLite catalog file and the blob files, which `cairn serve --data OUT`
 * starts from (SQLite catalogs only).
 */
export const backupCommand: CommandModule<GlobalArgs, BackupArgs> = {
  command: 'backup <out>',
  describe: 'Back up a running server consistently into FILE (a tar; - for stdout)',
  builder: (y) =>
    y
      .positional('out', {
        type: 'string',
        demandOption: true,
        describe: 'Backup file to create, or - (stdout); with --sqlite an empty directory',
      })
      .option('sqlite', {
        type: 'boolean',
        default: false,
        describe: 'The older form: a data dir OUT with the SQLite catalog file copied',
      }),
  handler: async (args) => {
    if (args.sqlite) return backupToDir(args);
    const toStdout = isDash(args.out);
    const path = toStdout ? '' : resolve(args.out);
    if (!toStdout && (await fsp.stat(path).catch(() => null)))
      throw new CliError(`${path} exists; give a new file name`, EXIT.usage);
    const started = Date.now();
    const res = await clientFor(args).request('GET', '/v1/backup');
    const part = `${path}.part`;
    let manifest;
    try {
      const source = process.stderr.isTTY ? metered(res) : res;
      const sink = toStdout ? process.stdout : createWriteStream(part, { mode: 0o600 });
      manifest = await checkedCopy(source, sink);
      if (!toStdout) {
        const fh = await fsp.open(part, 'r');
        await fh.sync();
        await fh.close();
        await fsp.rename(part, path);
      }
    } catch (err) {
      res.destroy();
      if (!toStdout) await fsp.rm(part, { force: true });
      throw err;
    }
    const seconds = (Date.now() - started) / 1000;
    const m = manifest;
    const summary = { file: toStdout ? '-' : path, ...m, seconds };
    // On stdout the tar is the output: the summary goes to stderr.
    const say = (text: string) =>
      toStdout ? process.stderr.write(`${text}\n`) : output(args, summary, () => text);
    say(
      `backed up ${m.counts.sessions} session(s), ${m.counts.artifacts} artifact(s), ${m.blobs} blob(s) (${formatBytes(m.bytes)}) to ${summary.file} in ${seconds.toFixed(1)} s\n` +
        `restore it with: cairn restore ${toStdout ? 'FILE' : path} --to NEW_DATA_DIR`,
    );
  },
};

/**
 * Copies `source` into `sink` while reading it as a logical backup (layout, every blob's
 * sha256, end.json equal to the manifest); resolves with the manifest once both are done.
 */
async function checkedCopy(source: Readable, sink: Writable): Promise<LogicalManifest> {
  const toSink = new PassThrough();
  const toCheck = new PassThrough();
  source.on('error', (err) => {
    toSink.destroy(err);
    toCheck.destroy(err);
  });
  source.pipe(toSink);
  source.pipe(toCheck);
  const check = async () => {
    let manifest: LogicalManifest | null = null;
    for await (const item of readBackupTar(toCheck)) {
      if (item.type === 'manifest') manifest = item.manifest;
      if (item.type !== 'blob') continue;
      const hash = createHash('sha256');
      for await (const chunk of item.body) hash.update(chunk as Buffer);
      if (hash.digest('hex') !== item.sha256)
        throw new CliError(`blob ${item.sha256} arrived corrupted; the backup is not usable`);
    }
    return manifest as LogicalManifest;
  };
  const writing = pipeline(toSink, sink, { end: sink !== process.stdout });
  const [manifest] = await Promise.all([
    check().catch((err: unknown) => {
      source.unpipe(toSink);
      toSink.destroy(err as Error);
      throw err;
    }),
    writing,
  ]);
  return manifest;
}

/** `--sqlite`: the SQLite-file backup, unpacked into the data dir `args.out`. */
async function backupToDir(args: BackupArgs): Promise<void> {
  const dir = resolve(args.out);
  const stat = await fsp.stat(dir).catch(() => null);
  if (stat && !stat.isDirectory())
    throw new CliError(`${dir} is a file; back up into a new or empty directory`, EXIT.usage);
  if (stat && (await fsp.readdir(dir)).length > 0)
    throw new CliError(`${dir} is not empty; back up into a new or empty directory`, EXIT.usage);
  const started = Date.now();
  // Asked first: a refusal (a token without admin) leaves no directory behind.
  const res = await clientFor(args).request('GET', '/v1/backup?format=sqlite');
  let made: string | undefined; // the first directory mkdir created (a parent, maybe)
  let s;
  try {
    made = await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
    s = await extractBackup(process.stderr.isTTY ? metered(res) : res, dir);
  } catch (err) {
    res.destroy();
    // A partial copy is no copy: `cairn serve --data DIR` would start from it as a new store.
    if (made) await fsp.rm(made, { recursive: true, force: true });
    else if (stat)
      for (const e of await fsp.readdir(dir))
        await fsp.rm(join(dir, e), { recursive: true, force: true });
    throw err;
  }
  const seconds = (Date.now() - started) / 1000;
  output(args, { dir, ...s, seconds }, () =>
    [
      `backed up ${s.blobs} blob(s), ${formatBytes(s.bytes)}, and ${s.files.join(', ')} to ${dir} in ${seconds.toFixed(1)} s`,
      `start a server from it with: cairn serve --data ${dir}`,
    ].join('\n'),
  );
}

/** `source` passed through, drawing bytes received and the rate on stderr (a terminal). */
function metered(source: Readable): Readable {
  const bar = progressBar('backup', 0);
  let got = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _e, cb) {
      bar((got += chunk.length));
      cb(null, chunk);
    },
    flush(cb) {
      bar.done();
      cb();
    },
  });
  source.on('error', (err) => meter.destroy(err));
  return source.pipe(meter);
}
