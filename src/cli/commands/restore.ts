import { randomBytes } from 'node:crypto';
import { createReadStream, promises as fsp } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import type { CommandModule } from 'yargs';
import type { RestoreReport } from '../../core/store-restore.js';
import { CliError, EXIT, isDash, type GlobalArgs } from '../context.js';
import type { OfflineStore, StoreSpec } from '../offline-store.js';
import { printReport } from './migrate.js';

interface RestoreArgs extends GlobalArgs {
  source: string;
  to: string;
  'to-data'?: string;
}

/**
 * `cairn restore SOURCE --to STORE`: brings a backup back into an empty store (a fresh data
 * dir, or a catalog URL with its data dir), with no server running on it. SOURCE is a logical
 * backup tar (`cairn backup FILE`, or `-` for stdin), a SQLite-file backup tar (format 1, from
 * `GET /v1/backup?format=sqlite`), or a directory: a backup written by `cairn backup DIR`
 * before the logical format, or any stopped data dir. Same rules as migrate: an empty target,
 * or one that holds exactly this store already; a run stopped midway is finished by the next.
 */
export const restoreCommand: CommandModule<GlobalArgs, RestoreArgs> = {
  command: 'restore <source>',
  describe: 'Restore a backup (tar file, - for stdin, or an old backup dir) into an empty store',
  builder: (y) =>
    y
      .positional('source', {
        type: 'string',
        demandOption: true,
        describe: 'Backup tar, - (stdin), or a backup/data directory',
      })
      .option('to', {
        type: 'string',
        demandOption: true,
        describe: 'Target: a data dir, or CATALOG_URL[,BLOBS_URL] (sqlite:…, postgres://…)',
      })
      .option('to-data', {
        type: 'string',
        describe: "Target data dir (seal key, admin token, lock); default: the catalog file's dir",
      }),
  handler: async (args) => {
    const { storeSpec, openOfflineStore } = await import('../offline-store.js');
    const toSpec = storeSpec(args.to, args['to-data'], '--to');
    const started = Date.now();
    const to = await openOfflineStore(toSpec, { recover: true });
    let report: RestoreReport;
    try {
      report = await restoreFrom(args.source, to, toSpec);
    } finally {
      await to.close();
    }
    printReport(args, report, 'restored', (Date.now() - started) / 1000, toSpec);
  },
};

async function restoreFrom(
  source: string,
  to: OfflineStore,
  toSpec: StoreSpec,
): Promise<RestoreReport> {
  const { restoreStore } = await import('../../core/store-restore.js');
  if (!isDash(source)) {
    const stat = await fsp.stat(source).catch(() => null);
    if (!stat)
      throw new CliError(`${source} does not exist; give a backup file or directory`, EXIT.usage);
    if (stat.isDirectory()) return restoreDir(resolve(source), to);
  }
  const input = isDash(source) ? process.stdin : createReadStream(source);
  const first = await peekTarName(input);
  if (first === 'manifest.json') {
    const { readBackupTar } = await import('../../core/backup-tar.js');
    return restoreStore(readBackupTar(input), to.parts, Date.now());
  }
  // Format 1 (a copy of the SQLite file and the blob dir): unpacked beside the target, then
  // read like a backup directory.
  const { extractBackup } = await import('../backup-extract.js');
  const dir = join(toSpec.dataDir, 'tmp', `restore-${randomBytes(6).toString('hex')}`);
  await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
  try {
    await extractBackup(input, dir);
    return await restoreDir(dir, to);
  } finally {
    await fsp.rm(dir, { recursive: true, force: true });
  }
}

/** Restores from a backup directory (format 1, `cairn backup DIR`) or a stopped data dir. */
async function restoreDir(dir: string, to: OfflineStore): Promise<RestoreReport> {
  const { storeSpec, openOfflineStore } = await import('../offline-store.js');
  const { readStore } = await import('../../core/store-dump.js');
  const { restoreStore } = await import('../../core/store-restore.js');
  const stat = await fsp.stat(join(dir, 'catalog.db')).catch(() => null);
  if (!stat)
    throw new CliError(
      `${dir} holds no catalog.db; it is not a Cairn backup or data dir`,
      EXIT.usage,
    );
  const from = await openOfflineStore(storeSpec(dir, undefined, 'SOURCE'), { recover: false });
  try {
    return await restoreStore(readStore(from.parts, Date.now()), to.parts, Date.now());
  } finally {
    await from.close();
  }
}

/**
 * The name of the first entry of the tar `input` starts with, read from its first header and
 * put back, so the stream is then read from its start.
 */
async function peekTarName(input: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  let n = 0;
  for (;;) {
    const chunk = input.read() as Buffer | null;
    if (chunk) {
      chunks.push(chunk);
      n += chunk.length;
      if (n >= 512) break;
      continue;
    }
    if (input.readableEnded) break;
    await new Promise<void>((done, fail) => {
      const off = () => {
        input.off('readable', ok);
        input.off('end', ok);
        input.off('error', bad);
      };
      const ok = () => (off(), done());
      const bad = (err: Error) => (off(), fail(err));
      input.once('readable', ok).once('end', ok).once('error', bad);
    });
  }
  const head = Buffer.concat(chunks);
  if (head.length > 0) input.unshift(head);
  if (head.length < 512) throw new CliError('the backup is empty or not a tar');
  return head.subarray(0, 100).toString('latin1').replace(/\0.*$/s, '');
}
