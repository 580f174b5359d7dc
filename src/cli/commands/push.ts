import type { Argv, CommandModule } from 'yargs';
import { formatBytes } from '../../lib/size.js';
import { planPush, type PlanItem } from '../push-plan.js';
import { HashCaches } from '../hash-cache.js';
import { latestShas, pushPlan, syncSkipper } from '../push-runner.js';
import { CliError, EXIT, clientFor, metaText, output, table, type GlobalArgs } from '../context.js';
import { durationFlag, parseMetaArgs } from '../util.js';

interface PushArgs extends GlobalArgs {
  files: string[];
  session: string;
  meta: string[];
  ttl?: string;
  name?: string;
  type?: string;
  from: string[];
  sync: boolean;
  checksum: boolean;
  exclude: string[];
  followSymlinks: boolean;
}

/** `cairn push`: files, directories (recursively, in batches) or `-` for stdin. */
export const pushCommand: CommandModule<GlobalArgs, PushArgs> = {
  command: 'push [files..]',
  describe: 'Push files, directories or - (stdin) into a session',
  builder: (y) =>
    y
      .positional('files', {
        type: 'string',
        array: true,
        describe: 'Files, directories, or - for stdin',
      })
      .option('session', {
        alias: 's',
        type: 'string',
        demandOption: true,
        describe: 'Session id, e.g. run_42',
      })
      .option('meta', {
        alias: 'm',
        type: 'string',
        array: true,
        default: [],
        describe: 'Metadata key=value (several allowed)',
      })
      .option('ttl', {
        type: 'string',
        describe: 'Time to live, e.g. 7d',
        coerce: durationFlag('--ttl'),
      })
      .option('name', {
        alias: 'n',
        type: 'string',
        describe: 'Artifact name (one file) or name prefix (directory)',
      })
      .option('type', { type: 'string', describe: 'Content type (default: from the name)' })
      .option('from', {
        type: 'string',
        array: true,
        default: [],
        describe: 'Id of an input artifact (lineage; several allowed)',
      })
      .option('sync', {
        type: 'boolean',
        default: false,
        describe: 'Skip files whose name and bytes match the latest version already pushed',
      })
      .option('checksum', {
        alias: 'c',
        type: 'boolean',
        default: false,
        describe:
          'With --sync: hash every file, even those whose size and mtime are unchanged since the last push',
      })
      .option('exclude', {
        type: 'string',
        array: true,
        default: [],
        describe: 'Glob of files or directories to leave out (several allowed)',
      })
      .option('follow-symlinks', {
        alias: 'L',
        type: 'boolean',
        default: false,
        describe: 'Push what symbolic links in directories point to (default: skip them)',
      }) as unknown as Argv<PushArgs>,
  handler: async (args) => {
    // `--meta a=b c=d file` is greedy in yargs: give words without '=' back to the file list.
    const files = [...(args.files ?? []).map(String), ...args.meta.filter((m) => !m.includes('='))];
    if (files.length === 0)
      throw new CliError('name at least one file, directory, or - for stdin', EXIT.usage);
    if (args.checksum && !args.sync)
      throw new CliError(
        '--checksum goes with --sync (a push without it sends every file)',
        EXIT.usage,
      );
    const meta = parseMetaArgs(args.meta.filter((m) => m.includes('=')));
    const client = clientFor(args);
    const latest = args.sync ? latestShas(client, args.session) : undefined;
    // Its failure surfaces where pushPlan awaits it (after any mistake in the plan).
    latest?.catch(() => undefined);
    const caches = new HashCaches();
    // The walk then leaves out each unchanged file as it finds it: nothing of it is kept.
    const current = latest && !args.checksum ? await latest.catch(() => undefined) : undefined;
    const skipper = current && syncSkipper(current, caches);
    const plan = await planPush(files, {
      name: args.name,
      exclude: args.exclude.map(String),
      followSymlinks: args.followSymlinks,
      note: (text) => process.stderr.write(`cairn: ${text}\n`),
      unchanged: skipper?.unchanged,
    });
    // One file named on the command line prints one record; a directory prints a list.
    const one =
      files.length === 1 && plan.length === 1 && !('inDirectory' in plan[0] && plan[0].inDirectory);
    const opts = {
      meta,
      ttl: args.ttl,
      contentType: args.type,
      derivedFrom: args.from.map(String),
    };
    const results = await pushPlan(client, args.session, plan, opts, {
      latest,
      checksum: args.checksum,
      caches,
      skipped: skipper?.skipped(),
    });
    output(
      args,
      one ? (results[0] ?? (await skippedAnswer(plan[0], args.session, latest))) : results,
      () =>
        table(
          ['ID', 'NAME', 'V', 'SIZE', 'SHA256', 'META'],
          results.map((r) => [
            r.id,
            r.name,
            r.version,
            formatBytes(r.size),
            `${r.sha256.slice(0, 12)}${r.deduplicated ? ' (dedup)' : ''}`,
            metaText(r.meta),
          ]),
        ),
      () => results.map((r) => r.id),
    );
  },
};

/**
 * What `push FILE --sync` answers when the one file was not pushed because it is the latest
 * version already: its name, session and sha256 with `skipped: true` and the reason, where a
 * push answers the artifact record. (A directory's list leaves such files out; stderr counts
 * them in both cases.)
 */
async function skippedAnswer(
  item: PlanItem,
  session: string,
  latest: Promise<Map<string, string>> | undefined,
): Promise<SkippedFile> {
  const name = item.name;
  const sha256 = (await latest)?.get(name) ?? null;
  return { session, name, sha256, skipped: true, reason: 'unchanged' };
}

/** A file `push --sync` left out: the latest version of `name` has these bytes already. */
export interface SkippedFile {
  session: string;
  name: string;
  sha256: string | null;
  skipped: true;
  reason: 'unchanged';
}
