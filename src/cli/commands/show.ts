import type { CommandModule } from 'yargs';
import { formatBytes } from '../../lib/size.js';
import { artifactTable, clientFor, metaText, output, when, type GlobalArgs } from '../context.js';

interface ShowArgs extends GlobalArgs {
  session: string;
}

/** `cairn show SESSION`: a session and its artifacts. */
export const showCommand: CommandModule<GlobalArgs, ShowArgs> = {
  command: 'show <session>',
  describe: 'Show a session and its artifacts',
  builder: (y) => y.positional('session', { type: 'string', demandOption: true }),
  handler: async (args) => {
    const s = await clientFor(args).session(args.session);
    output(args, s, () =>
      [
        `session   ${s.id}`,
        `state     ${s.sealed ? `sealed ${when(s.sealed_at)}` : 'open'}`,
        ...(s.digest ? [`digest    ${s.digest}`] : []),
        `created   ${when(s.created_at)}`,
        `expires   ${when(s.expires_at)}`,
        `artifacts ${s.artifact_count} (${formatBytes(s.total_bytes)})`,
        ...(Object.keys(s.meta).length ? [`meta      ${metaText(s.meta)}`] : []),
        '',
        artifactTable(s.artifacts, { withSession: false }),
      ].join('\n'),
    );
  },
};
