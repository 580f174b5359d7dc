import type { CommandModule } from 'yargs';
import { clientFor, output, type GlobalArgs } from '../context.js';
import { segment } from '../../client/url-path.js';

interface RmArgs extends GlobalArgs {
  target: string;
}

/** `cairn rm ID | SESSION`: delete an artifact, or a whole open session. */
export const rmCommand: CommandModule<GlobalArgs, RmArgs> = {
  command: 'rm <target>',
  describe: 'Delete an artifact (ID) or an open session with all its artifacts (SESSION)',
  builder: (y) => y.positional('target', { type: 'string', demandOption: true }),
  handler: async (args) => {
    const client = clientFor(args);
    if (/^a_[0-9A-Z]{26}$/.test(args.target)) {
      const a = await client.deleteArtifact(args.target);
      output(args, a, () => `deleted ${a.id} (${a.session}/${a.name} v${a.version})`);
    } else {
      const s = await client.json<{ id: string; artifacts_deleted: number }>(
        'DELETE',
        `/v1/sessions/${segment(args.target, 'session id')}`,
      );
      output(args, s, () => `deleted session ${s.id} (${s.artifacts_deleted} artifacts)`);
    }
  },
};
