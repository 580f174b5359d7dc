import { promises as fsp } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { Transform } from 'node:stream';
import type { CommandModule } from 'yargs';
import { formatBytes } from '../../lib/size.js';
import { extractBackup } from '../backup-extract.js';
import { CliError, EXIT, clientFor, output, type GlobalArgs } from '../context.js';
import { progressBar } from '../util.js';

interface BackupArgs extends GlobalArgs {
  dir: string;
}

/**
 * `cairn backup DIR` (admin): a consistent copy of a running server (SQLite online backup of
 * the catalog plus every blob it references, the seal key and the admin token file) written
 * into DIR, which must be empty or not exist. `cairn serve --data DIR` starts from it.
 */
export const backupCommand: CommandModule<GlobalArgs, BackupArgs> = {
  command: 'backup <dir>',
  describe: 'Copy a running server consistently into DIR (a data dir cairn serve starts from)',
  builder: (y) =>
    y.positional('dir', { type: 'string', demandOption: true, describe: 'Empty directory' }),
  handler: async (args) => {
    const dir = resolve(args.dir);
    const stat = await fsp.stat(dir).catch(() => null);
    if (stat && !stat.isDirectory())
      throw new CliError(`${dir} is a file; back up into a new or empty directory`, EXIT.usage);
    if (stat && (await fsp.readdir(dir)).length > 0)
      throw new CliError(`${dir} is not empty; back up into a new or empty directory`, EXIT.usage);
    const started = Date.now();
    // Asked first: a refusal (a token without admin) leaves no directory behind.
    const res = await clientFor(args).request('GET', '/v1/backup');
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
  },
};

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
