import { createInterface } from 'node:readline/promises';
import type { CommandModule } from 'yargs';
import { CliError, EXIT, clientFor, output, type GlobalArgs } from '../context.js';
import { segment } from '../../client/url-path.js';

interface RmArgs extends GlobalArgs {
  target: string;
  yes: boolean;
}

/**
 * `cairn rm ID | SESSION`: delete an artifact, or a whole open session. A session is deleted
 * only when confirmed: `--yes`, or "y" typed at the prompt on a terminal; without a terminal
 * and without `--yes` it is a usage error and nothing is deleted.
 */
export const rmCommand: CommandModule<GlobalArgs, RmArgs> = {
  command: 'rm <target>',
  describe: 'Delete an artifact (ID) or an open session with all its artifacts (SESSION)',
  builder: (y) =>
    y.positional('target', { type: 'string', demandOption: true }).option('yes', {
      alias: 'y',
      type: 'boolean',
      default: false,
      describe: 'Delete a session without asking',
    }) as never,
  handler: async (args) => {
    const client = clientFor(args);
    if (/^a_[0-9A-Z]{26}$/.test(args.target)) {
      const a = await client.deleteArtifact(args.target);
      output(args, a, () => `deleted ${a.id} (${a.session}/${a.name} v${a.version})`);
      return;
    }
    const path = `/v1/sessions/${segment(args.target, 'session id')}`;
    if (!args.yes)
      await confirm(args.target, async () => (await client.session(args.target)).artifact_count);
    const s = await client.json<{ id: string; artifacts_deleted: number }>('DELETE', path);
    output(args, s, () => `deleted session ${s.id} (${s.artifacts_deleted} artifacts)`);
  },
};

/** Asks on the terminal; anything but y/yes cancels (exit 1). No terminal: a usage error. */
async function confirm(session: string, count: () => Promise<number>): Promise<void> {
  if (!process.stdin.isTTY || !process.stderr.isTTY)
    throw new CliError(
      `cairn rm ${session} deletes the session with all its artifacts: pass --yes to confirm ` +
        '(there is no terminal to ask on)',
      EXIT.usage,
    );
  const artifacts = await count();
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  const answer = await rl.question(
    `Delete session ${session} and its ${artifacts} artifacts? This cannot be undone. [y/N] `,
  );
  rl.close();
  if (!/^y(es)?$/i.test(answer.trim())) throw new CliError('cancelled; nothing was deleted');
}
