import type { CommandModule } from 'yargs';
import { importSession } from '../../client/pipeline-client.js';
import { formatBytes } from '../../lib/size.js';
import { clientFor, isDash, output, type GlobalArgs } from '../context.js';
import { durationFlag, openLocalFile } from '../util.js';

interface ImportArgs extends GlobalArgs {
  file: string;
  ttl?: string;
}

/**
 * `cairn import FILE.tar [--ttl D]` (or `-` for stdin): recreates an exported session on the server,
 * which verifies every hash, the digest and the signature first. Importing the same export
 * again changes nothing; a different session with the same id is a conflict (exit 4).
 */
export const importCommand: CommandModule<GlobalArgs, ImportArgs> = {
  command: 'import <file>',
  describe: 'Import a session export tar (verified before anything is stored)',
  builder: (y) =>
    y.positional('file', { type: 'string', demandOption: true }).option('ttl', {
      type: 'string',
      describe: 'Lifetime of the imported session here, e.g. 30d (default: none)',
      coerce: durationFlag('--ttl'),
    }),
  handler: async (args) => {
    const source = isDash(args.file) ? process.stdin : await openLocalFile(args.file);
    const r = await importSession(clientFor(args), source, args.ttl);
    output(args, r, () =>
      r.created
        ? `imported ${r.session.id}: ${r.artifacts} artifact(s), ${formatBytes(r.bytes)}${r.session.sealed ? `, sealed (digest ${r.session.digest})` : ''}`
        : `${r.session.id} was already imported; nothing changed`,
    );
  },
};
