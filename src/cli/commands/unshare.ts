import type { CommandModule } from 'yargs';
import { clientFor, output, type GlobalArgs } from '../context.js';

interface UnshareArgs extends GlobalArgs {
  id: string;
}

/** `cairn unshare ID`: revoke a share link (its URL answers 410 from then on). */
export const unshareCommand: CommandModule<GlobalArgs, UnshareArgs> = {
  command: 'unshare <id>',
  describe: 'Revoke a share link',
  builder: (y) => y.positional('id', { type: 'string', demandOption: true }),
  handler: async (args) => {
    const s = await clientFor(args).unshare(args.id);
    output(args, s, () => `revoked ${s.id}`);
  },
};
