import type { CommandModule } from 'yargs';
import { clientFor, output, type GlobalArgs } from '../context.js';

interface UnpinArgs extends GlobalArgs {
  session: string;
}

/** `cairn unpin SESSION`: its TTLs apply again (whatever is past them vanishes at once). */
export const unpinCommand: CommandModule<GlobalArgs, UnpinArgs> = {
  command: 'unpin <session>',
  describe: 'Unpin a session: its TTLs apply again',
  builder: (y) => y.positional('session', { type: 'string', demandOption: true }),
  handler: async (args) => {
    const s = await clientFor(args).pin(args.session, false);
    output(args, s, () => `unpinned ${s.id}${s.expires_at ? ` (expires ${s.expires_at})` : ''}`);
  },
};
