import type { CommandModule } from 'yargs';
import { streamEvents, type StreamedEvent } from '../../client/pipeline-client.js';
import { CairnApiError } from '../../client/send-request.js';
import { CliError, EXIT, clientFor, when, type GlobalArgs } from '../context.js';

interface EventsArgs extends GlobalArgs {
  session?: string;
  types: string[];
  after?: string;
  count?: number;
}

/**
 * `cairn events [--session ID] [--type T ...] [--after ID] [--count N]`: prints events as they
 * happen (one line each, or one JSON object per line with --json) until interrupted or N
 * events were printed. Reconnects by itself after a dropped connection, resuming after the
 * last id it saw so nothing in the server's window is missed.
 */
export const eventsCommand: CommandModule<GlobalArgs, EventsArgs> = {
  command: 'events',
  describe: 'Follow events (artifact.created/deleted, session.sealed/expired) as they happen',
  builder: (y) =>
    y
      .option('session', { alias: 's', type: 'string', describe: 'Only this session' })
      .option('type', {
        type: 'string',
        array: true,
        default: [],
        describe: 'Only these event types',
      })
      .option('after', { type: 'string', describe: 'Replay what came after this event id' })
      .option('count', { type: 'number', describe: 'Exit after printing this many events' })
      .alias('type', 'types') as never,
  handler: async (args) => {
    const client = clientFor(args);
    let last = args.after;
    if (args.count !== undefined && !(Number.isSafeInteger(args.count) && args.count >= 1))
      throw new CliError('--count must be a whole number from 1 up', EXIT.usage);
    let printed = 0;
    for (;;) {
      try {
        for await (const m of streamEvents(client, {
          session: args.session,
          types: args.types,
          lastEventId: last,
          onId: (id) => (last = id),
        })) {
          if (m.kind === 'gap') {
            process.stderr.write(`(some events after ${m.after} are no longer available)\n`);
            continue;
          }
          process.stdout.write(`${args.json ? JSON.stringify(m.event) : line(m.event)}\n`);
          if (args.count !== undefined && ++printed >= args.count) return;
        }
      } catch (err) {
        // Only a dropped connection or a server error is worth a retry; a refusal (bad token,
        // bad id, scope) would be refused again, forever and silently.
        if (last === undefined || (err instanceof CairnApiError && err.status < 500)) throw err;
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  },
};

function line(ev: StreamedEvent): string {
  const d = ev.data as { name?: string; version?: number; id?: string; digest?: string };
  const what =
    ev.type === 'session.sealed'
      ? `digest ${d.digest ?? ''}`
      : d.name
        ? `${d.name} v${d.version} ${d.id}`
        : '';
  return `${when(ev.at)}  ${ev.type.padEnd(16)}  ${ev.session}  ${what}`.trimEnd();
}
