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
      describe: 'How long to wait (30s, 2h); then exit 6',
    }),
  handler: async (args) => {
    let ms: number;
    try {
      ms = parseDuration(args.timeout, 'timeout');
    } catch (err) {
      throw new CliError((err as Error).message, EXIT.usage);
    }
    const client = clientFor(args);
    // One short look first, so the user learns what is being waited for (and a typo in the
    // session id shows as "does not exist yet") before the long wait starts.
    const now = await waitSealed(client, args.session, 1);
    if (!now.sealed && !args.json)
      process.stderr.write(
        `waiting up to ${args.timeout} for session ${args.session} to be sealed ` +
          `(${now.exists === false ? 'it does not exist yet' : `it is open, ${now.artifact_count ?? 0} artifacts`})…\n`,
      );
    const r = now.sealed ? now : await waitSealed(client, args.session, ms);
    if (!r.sealed) {
      if (args.json) output(args, r, () => '');
      throw new CliError(
        r.exists === false
          ? `session ${args.session} was not sealed within ${args.timeout}: it does not exist; check the id (cairn sessions lists them)`
          : `session ${args.session} was not sealed within ${args.timeout}`,
        EXIT.timeout,
      );
    }
    output(args, r, () => `sealed ${r.id}\ndigest ${r.digest}`);
  },
};
