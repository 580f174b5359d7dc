import { createWriteStream, promises as fsp } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { CommandModule } from 'yargs';
import { exportSession } from '../../client/pipeline-client.js';
import { formatBytes } from '../../lib/size.js';
import { CliError, EXIT, clientFor, isDash, output, type GlobalArgs } from '../context.js';
import { isDirectory } from '../util.js';

interface ExportArgs extends GlobalArgs {
  session: string;
  output?: string;
}

/**
 * `cairn export SESSION [-o FILE.tar]`: writes the session as a tar (default `SESSION.tar`;
 * `-o -` for stdout). The file appears only once complete (written to FILE.part, renamed).
 */
export const exportCommand: CommandModule<GlobalArgs, ExportArgs> = {
  command: 'export <session>',
  describe: 'Export a session (manifest, seal, lineage and files) as a tar',
  builder: (y) =>
    y
      .positional('session', { type: 'string', demandOption: true })
      .option('output', { alias: 'o', type: 'string', describe: 'FILE.tar, or - for stdout' }),
  handler: async (args) => {
    const file = args.output ?? `${args.session.replace(/[^A-Za-z0-9._-]/g, '_')}.tar`;
    // Checked before the download starts, so a bad path is a clear error, not a raw ENOENT.
    if (!isDash(args.output) && !isDirectory(dirname(resolve(file))))
      throw new CliError(`cannot write ${file}: its directory does not exist`, EXIT.usage);
    const res = await exportSession(clientFor(args), args.session);
    if (isDash(args.output)) {
      await pipeline(res, process.stdout);
      return;
    }
    const part = `${file}.part`;
    try {
      await pipeline(res, createWriteStream(part));
      await fsp.rename(part, file);
    } catch (err) {
      await fsp.rm(part, { force: true });
      throw err;
    }
    const { size } = await fsp.stat(file);
    output(
      args,
      { file, bytes: size },
      () => `exported ${args.session} to ${file} (${formatBytes(size)})`,
    );
  },
};
