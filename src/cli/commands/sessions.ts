import type { CommandModule } from 'yargs';
import { formatBytes } from '../../lib/size.js';
import { clientFor, metaText, output, table, when, type GlobalArgs } from '../context.js';
import { limitFlag, morePages, parseMetaArgs } from '../util.js';

interface SessionsArgs extends GlobalArgs {
  meta: string[];
  sealed?: boolean;
  open?: boolean;
  where?: string;
  limit: number;
  cursor?: string;
}

/** `cairn sessions`: list sessions, newest first. */
export const sessionsCommand: CommandModule<GlobalArgs, SessionsArgs> = {
  command: 'sessions',
  describe: 'List sessions, newest first',
  builder: (y) =>
    y
      .option('meta', { alias: 'm', type: 'string', array: true, default: [] })
      .option('sealed', { type: 'boolean', describe: 'Only sealed sessions' })
      .option('open', { type: 'boolean', describe: 'Only open sessions' })
      .conflicts('sealed', 'open')
      .option('where', { type: 'string' })
      .option('limit', { type: 'number', default: 50, coerce: limitFlag })
      .option('cursor', { type: 'string', describe: 'Continue where the last page stopped' }),
  handler: async (args) => {
    const sealed = args.sealed ? true : args.open ? false : undefined;
    const page = await clientFor(args).sessions({
      meta: parseMetaArgs(args.meta),
      sealed,
      where: args.where,
      limit: args.limit,
      cursor: args.cursor,
    });
    output(
      args,
      page,
      () =>
        table(
          ['SESSION', 'ARTIFACTS', 'SIZE', 'STATE', 'UPDATED', 'META'],
          page.items.map((s) => [
            s.id,
            s.artifact_count,
            formatBytes(s.total_bytes),
            s.sealed ? 'sealed' : 'open',
            when(s.updated_at),
            metaText(s.meta),
          ]),
        ) + morePages(page.next_cursor),
      () => page.items.map((x) => x.id),
    );
  },
};
