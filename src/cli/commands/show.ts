import type { CommandModule } from 'yargs';
import type { SessionRecord } from '../../core/types.js';
import { formatBytes } from '../../lib/size.js';
import {
  CliError,
  EXIT,
  artifactTable,
  clientFor,
  metaText,
  output,
  when,
  type GlobalArgs,
} from '../context.js';
import { limitFlag, morePages } from '../util.js';

interface ShowArgs extends GlobalArgs {
  session: string;
  limit?: number;
  cursor?: string;
}

/**
 * `cairn show SESSION [--limit N] [--cursor C]`: a session and its artifacts. Without paging
 * flags, every artifact (as `GET /v1/sessions/{sid}` gives them); with them, one page of its
 * artifacts newest first, as `cairn ls --session` pages, and the session's own figures.
 */
export const showCommand: CommandModule<GlobalArgs, ShowArgs> = {
  command: 'show <session>',
  describe: 'Show a session and its artifacts (--limit/--cursor: a page of them, newest first)',
  builder: (y) =>
    y
      .positional('session', { type: 'string', demandOption: true })
      .option('limit', {
        type: 'number',
        describe: 'Artifacts per page (1-1000)',
        coerce: limitFlag,
      })
      .option('cursor', {
        type: 'string',
        describe: 'Continue where the last page stopped',
      }) as never,
  handler: async (args) => {
    const client = clientFor(args);
    if (args.limit === undefined && args.cursor === undefined) {
      const s = await client.session(args.session);
      output(args, s, () =>
        [...header(s), '', artifactTable(s.artifacts, { withSession: false })].join('\n'),
      );
      return;
    }
    const [found] = (
      await client.sessions({ where: `id = '${args.session.replaceAll("'", "''")}'`, limit: 1 })
    ).items;
    if (!found) throw new CliError(`session '${args.session}' not found`, EXIT.notFound);
    const page = await client.query({
      session: args.session,
      limit: args.limit ?? 100,
      cursor: args.cursor,
    });
    output(args, { ...found, artifacts: page.items, next_cursor: page.next_cursor }, () =>
      [
        ...header(found),
        '',
        artifactTable(page.items, { withSession: false }) + morePages(page.next_cursor),
      ].join('\n'),
    );
  },
};

/** The lines above the artifact table. */
function header(s: SessionRecord): string[] {
  return [
    `session   ${s.id}`,
    `state     ${s.sealed ? `sealed ${when(s.sealed_at)}` : 'open'}`,
    ...(s.digest ? [`digest    ${s.digest}`] : []),
    `created   ${when(s.created_at)}`,
    `expires   ${when(s.expires_at)}`,
    `artifacts ${s.artifact_count} (${formatBytes(s.total_bytes)})`,
    ...(Object.keys(s.meta).length ? [`meta      ${metaText(s.meta)}`] : []),
  ];
}
