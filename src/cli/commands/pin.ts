import type { CommandModule } from 'yargs';
import { clientFor, output, type GlobalArgs } from '../context.js';

interface PinArgs extends GlobalArgs {
  session: string;
}

/** `cairn pin SESSION`: exempt a session (and its artifacts) from every expiry. */
export const pinCommand: CommandModule<GlobalArgs, PinArgs> = {
  command: 'pin <session>',
  describe: 'Pin a session: it and its artifacts never expire while pinned',
  builder: (y) => y.positional('session', { type: 'string', demandOption: true }),
  handler: async (args) => {
    const s = await clientFor(args).pin(args.session, true);
    output(args, s, () => `pinned ${s.id}`);
  },
};
