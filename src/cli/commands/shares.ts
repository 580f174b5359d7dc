import type { CommandModule } from 'yargs';
import { clientFor, output, table, when, type GlobalArgs } from '../context.js';

/** `cairn shares`: every share link with its status, downloads and last access. */
export const sharesCommand: CommandModule<GlobalArgs, GlobalArgs> = {
  command: 'shares',
  describe: 'List share links (never their secrets)',
  handler: async (args) => {
    const items = await clientFor(args).shares();
    output(
      args,
      items,
      () =>
        table(
          ['ID', 'TARGET', 'STATUS', 'DOWNLOADS', 'EXPIRES', 'LAST ACCESS'],
          items.map((s) => [
            s.id,
            s.kind === 'session'
              ? `${s.session} (session)`
              : `${s.session}/${s.name ?? s.artifact_id}`,
            s.status,
            s.max_downloads === null ? s.downloads : `${s.downloads}/${s.max_downloads}`,
            when(s.expires_at),
            when(s.last_access_at),
          ]),
        ),
      () => items.map((s) => s.id),
    );
  },
};
