import type { CommandModule } from 'yargs';

import { artifactTable, clientFor, output, type GlobalArgs } from '../context.js';
import { limitFlag, morePages, parseMetaArgs, timeFlag } from '../util.js';

interface LsArgs extends GlobalArgs {
  session?: string;
  meta: string[];
  type?: string;
  name?: string;
  since?: string;
  until?: string;
  where?: string;
  latest: boolean;
  limit: number;
  cursor?: string;
}

/** `cairn ls`: query artifacts, newest first. */
export const lsCommand: CommandModule<GlobalArgs, LsArgs> = {
  command: 'ls',
  describe: 'List or query artifacts, newest first',
  builder: (y) =>
    y
      .option('session', { alias: 's', type: 'string' })
      .option('meta', {
        alias: 'm',
        type: 'string',
        array: true,
        default: [],
        describe: 'key=value, key=prefix* or key (exists)',
      })
      .option('type', { type: 'string', describe: 'application/json or image/*' })
      .option('name', { type: 'string', describe: 'Glob over names, e.g. reports/*.md' })
      .option('since', {
        type: 'string',
        describe: 'ISO time or a duration ago (1h)',
        coerce: timeFlag('--since'),
      })
      .option('until', { type: 'string', coerce: timeFlag('--until') })
      .option('where', {
        type: 'string',
        describe: 'Expression, e.g. "agent = \'claude\' and score >= 0.9"',
      })
      .option('latest', {
        type: 'boolean',
        default: false,
        describe: 'Only the latest version of each name',
      })
      .option('limit', { type: 'number', default: 50, coerce: limitFlag })
      .option('cursor', { type: 'string', describe: 'Continue where the last page stopped' }),
  handler: async (args) => {
    // Own properties (fromEntries): `__proto__` reaches the server, which says what is wrong.
    const meta: Record<string, string> = Object.fromEntries(
      args.meta.map((m) => (m.includes('=') ? Object.entries(parseMetaArgs([m]))[0] : [m, ''])),
    );
    const page = await clientFor(args).query({
      session: args.session,
      meta,
      type: args.type,
      name: args.name,
      since: args.since,
      until: args.until,
      where: args.where,
      latest: args.latest || undefined,
      limit: args.limit,
      cursor: args.cursor,
    });
    output(
      args,
      page,
      () => artifactTable(page.items, { withSession: true }) + morePages(page.next_cursor),
      () => page.items.map((a) => a.id),
    );
  },
};
