import type { CommandModule } from 'yargs';
import { clientFor, output, type GlobalArgs } from '../context.js';
import { checkedFlag, durationFlag } from '../util.js';

interface ShareArgs extends GlobalArgs {
  target: string;
  ttl?: string;
  'max-downloads'?: number;
}

/**
 * `cairn share SESSION/NAME | ID | SESSION [--ttl D] [--max-downloads N]`: prints a link that
 * works without a token (an artifact, or a whole session as a tar).
 */
export const shareCommand: CommandModule<GlobalArgs, ShareArgs> = {
  command: 'share <target>',
  describe: 'Print an expiring link (no token needed) to SESSION/NAME, an artifact ID or a SESSION',
  builder: (y) =>
    y
      .positional('target', { type: 'string', demandOption: true })
      .option('ttl', {
        type: 'string',
        describe: 'Lifetime, e.g. 24h (default 7d, capped by the server)',
        coerce: durationFlag('--ttl'),
      })
      .option('max-downloads', {
        type: 'number',
        describe: 'Answer 410 after this many downloads',
        coerce: checkedFlag('--max-downloads', (n: number) => {
          if (!Number.isInteger(n) || n < 1)
            throw new Error('--max-downloads must be a whole number of at least 1');
        }),
      }),
  handler: async (args) => {
    const client = clientFor(args);
    const opts = { ttl: args.ttl, maxDownloads: args['max-downloads'] };
    const t = args.target;
    const slash = t.indexOf('/');
    const link = /^a_[0-9A-Z]{26}$/.test(t)
      ? await client.share({ artifactId: t }, opts)
      : slash > 0
        ? await client.share(
            { artifactId: await client.artifactIdOf(t.slice(0, slash), t.slice(slash + 1)) },
            opts,
          )
        : await client.share({ session: t }, opts);
    output(args, link, () => `${link.url}\n(id ${link.id}, expires ${link.expires_at})`);
  },
};
