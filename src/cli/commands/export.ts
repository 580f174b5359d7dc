import { createWriteStream, promises as fsp } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type { CommandModule } from 'yargs';
import { exportSession } from '../../client/pipeline-client.js';
import { formatBytes } from '../../lib/size.js';
import { clientFor, isDash, output, type GlobalArgs } from '../context.js';

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
    const res = await exportSession(clientFor(args), args.session);
    if (isDash(args.output)) {
      await pipeline(res, process.stdout);
      return;
    }
    const file = args.output ?? `${args.session.replace(/[^A-Za-z0-9._-]/g, '_')}.tar`;
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
