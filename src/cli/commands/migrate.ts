import { join } from 'node:path';
import type { CommandModule } from 'yargs';
import { localUrl } from '../../lib/backend-registry.js';
import type { StoreSpec } from '../offline-store.js';
import type { RestoreReport } from '../../core/store-restore.js';
import { formatBytes } from '../../lib/size.js';
import { output, type GlobalArgs } from '../context.js';

interface MigrateArgs extends GlobalArgs {
  from: string;
  to: string;
  'from-data'?: string;
  'to-data'?: string;
}

/**
 * `cairn migrate --from STORE --to STORE`: copies a whole store (catalog rows as stored, seal
 * key, admin token file, every referenced blob not yet at the target) from one catalog/blob
 * backend pair to another, with no server running on either (both data dirs are locked while
 * it runs). The target must be empty, or already hold exactly this store (then nothing is
 * written: "already migrated"). A run stopped midway leaves a marker the next run finishes
 * from (see restoreStore).
 */
export const migrateCommand: CommandModule<GlobalArgs, MigrateArgs> = {
  command: 'migrate',
  describe: 'Copy a whole store to another catalog/blob backend (no server running on either)',
  builder: (y) =>
    y
      .option('from', {
        type: 'string',
        demandOption: true,
        describe: 'Source: a data dir, or CATALOG_URL[,BLOBS_URL] (sqlite:…, postgres://…)',
      })
      .option('to', {
        type: 'string',
        demandOption: true,
        describe: 'Target, as --from; must be empty (or hold this very store already)',
      })
      .option('from-data', {
        type: 'string',
        describe: "Source data dir (seal key, admin token, lock); default: the catalog file's dir",
      })
      .option('to-data', { type: 'string', describe: 'Target data dir, as --from-data' }),
  handler: async (args) => {
    const { storeSpec, openOfflineStore } = await import('../offline-store.js');
    const { readStore } = await import('../../core/store-dump.js');
    const { restoreStore } = await import('../../core/store-restore.js');
    const fromSpec = storeSpec(args.from, args['from-data'], '--from');
    const toSpec = storeSpec(args.to, args['to-data'], '--to');
    const started = Date.now();
    const from = await openOfflineStore(fromSpec, { recover: false });
    try {
      const to = await openOfflineStore(toSpec, { recover: true });
      try {
        const report = await restoreStore(readStore(from.parts, Date.now()), to.parts, Date.now());
        printReport(args, report, 'migrated', (Date.now() - started) / 1000, toSpec);
      } finally {
        await to.close();
      }
    } finally {
      await from.close();
    }
  },
};

/** The outcome of a restore or migrate, as one line (or JSON). */
export function printReport(
  args: GlobalArgs,
  r: RestoreReport,
  verb: string,
  seconds: number,
  to: StoreSpec,
): void {
  const c = r.counts;
  const serve = [`cairn serve --data ${to.dataDir}`];
  if (to.catalogUrl !== localUrl('sqlite:', join(to.dataDir, 'catalog.db')))
    serve.push(`--catalog ${to.catalogUrl}`);
  if (to.blobsUrl !== localUrl('file:', to.dataDir)) serve.push(`--blobs ${to.blobsUrl}`);
  output(args, { ...r, data_dir: to.dataDir, seconds }, () =>
    r.status === 'already_present'
      ? `already ${verb}: the target holds this store (${c.sessions} session(s), ${c.artifacts} artifact(s)); nothing written`
      : [
          `${verb} ${c.sessions} session(s), ${c.artifacts} artifact(s), ${c.tokens} token(s), ${c.shares} share(s); ` +
            `${r.blobsCopied} blob(s) copied (${formatBytes(r.bytesCopied)}) in ${seconds.toFixed(1)} s` +
            (r.resumed ? ' (finished a run that had stopped midway)' : ''),
          `start a server on it with: ${serve.join(' ')}`,
        ].join('\n'),
  );
}
