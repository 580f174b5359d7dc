import type { CommandModule } from 'yargs';
import { clientFor, output, type GlobalArgs } from '../context.js';

interface SealArgs extends GlobalArgs {
  session: string;
}

/** `cairn seal SESSION`: make a session immutable and print its digest. */
export const sealCommand: CommandModule<GlobalArgs, SealArgs> = {
  command: 'seal <session>',
  describe: 'Seal a session (immutable, with a verifiable digest)',
  builder: (y) => y.positional('session', { type: 'string', demandOption: true }),
  handler: async (args) => {
    const s = await clientFor(args).seal(args.session);
    output(args, s, () => `sealed ${s.id}\ndigest ${s.digest}`);
  },
};
