import type { CommandModule } from 'yargs';
import { waitSealed } from '../../client/pipeline-client.js';
import { parseDuration } from '../../lib/duration.js';
import { CliError, EXIT, clientFor, output, type GlobalArgs } from '../context.js';

interface WaitArgs extends GlobalArgs {
  session: string;
  timeout: string;
}

/**
 * `cairn wait SESSION [--timeout D]`: blocks until the session is sealed (also if it does not
 * exist yet) and exits 0, or exits 6 at the timeout. Long-polls; never polls in a loop.
 */
export const waitCommand: CommandModule<GlobalArgs, WaitArgs> = {
  command: 'wait <session>',
  describe: 'Wait until a session is sealed (exit 0), or exit 6 at the timeout',
  builder: (y) =>
    y.positional('session', { type: 'string', demandOption: true }).option('timeout', {
      type: 'string',
      default: '60s',
      describe: 'How long to wait (30s, 2h)',
    }),
  handler: async (args) => {
    let ms: number;
    try {
      ms = parseDuration(args.timeout, 'timeout');
    } catch (err) {
      throw new CliError((err as Error).message, EXIT.usage);
    }
    const r = await waitSealed(clientFor(args), args.session, ms);
    if (!r.sealed) {
      if (args.json) output(args, r, () => '');
      throw new CliError(
        `session ${args.session} was not sealed within ${args.timeout}`,
        EXIT.timeout,
      );
    }
    output(args, r, () => `sealed ${r.id}\ndigest ${r.digest}`);
  },
};
