import { yargs } from './yargs-cjs.js';
import { CairnApiError } from '../client/cairn-client.js';
import { CairnError } from '../lib/errors.js';
import { DASH, EXIT, exitCodeOf, type GlobalArgs } from './context.js';
import { commandsFor } from './command-select.js';
import { checkPushMeta } from './util.js';

/**
 * Runs the CLI with `argv` (without node and script). Resolves with the process exit code;
 * prints errors to stderr (as JSON with --json).
 */
export async function runCli(argv: string[]): Promise<number> {
  let failure: { code: number; message: string; errorCode?: string } | null = null;
  const json = argv.includes('--json');
  // `cairn --version` (or -V) is `cairn version`; `pull --version N` keeps its meaning.
  if (argv[0] === '--version' || argv[0] === '-V') argv = ['version', ...argv.slice(1)];
  // `cairn completion bash|zsh`: yargs picks the script by $SHELL, so say which.
  if (argv[0] === 'completion' && (argv[1] === 'bash' || argv[1] === 'zsh')) {
    process.env.SHELL = `/bin/${argv[1]}`;
    argv = ['completion', ...argv.slice(2)];
  }
  // yargs drops a lone '-' argument; carry it through as a marker (see isDash).
  const parser = yargs(argv.map((a) => (a === '-' ? DASH : a)))
    .scriptName('cairn')
    .usage('$0 <command> [options]')
    .option('url', {
      type: 'string',
      default: process.env.CAIRN_URL ?? 'http://127.0.0.1:7070',
      describe: 'Server URL (CAIRN_URL)',
      global: true,
    })
    .option('token', {
      type: 'string',
      describe: 'API token (CAIRN_TOKEN; default: the local admin token)',
      global: true,
    })
    .option('json', {
      type: 'boolean',
      default: false,
      describe: 'Machine-readable output',
      global: true,
    })
    .option('format', {
      type: 'string',
      describe: "One line per item, e.g. '{id} {name} {meta.agent}' (fields as in --json)",
      global: true,
    })
    .option('quiet', {
      alias: 'q',
      type: 'boolean',
      default: false,
      describe: 'Only ids, one a line (push, ls, sessions, shares, token ls)',
      global: true,
    })
    .command((await commandsFor(argv)) as never)
    .completion(
      'completion',
      'Print a shell completion script: cairn completion bash >> ~/.bashrc (or zsh >> ~/.zshrc)',
    )
    .demandCommand(1, 'name a command (cairn --help lists them)')
    .strict()
    .recommendCommands()
    .help()
    .alias('help', 'h')
    .version(false)
    .wrap(Math.min(100, process.stdout.columns || 100))
    .fail((msg, err) => {
      // Thrown, not recorded: yargs would otherwise still run the command's handler (a typo
      // such as `gc --dryrun` collected garbage, then exited 2).
      // yargs wraps what a flag's `coerce` throws (a bad value) in its own YError.
      if (!err || err.name === 'YError') throw new UsageError(err?.message ?? msg);
      throw err;
    });
  skipHelpCache(parser);
  try {
    checkPushMeta(argv);
    await parser.parseAsync();
  } catch (err) {
    // stdout closed by its reader (`| head`): nothing is wrong, and nothing more to say.
    if ((err as NodeJS.ErrnoException).code === 'EPIPE') return EXIT.ok;
    const code = err instanceof UsageError ? EXIT.usage : exitCodeOf(err);
    const errorCode =
      err instanceof CairnApiError || err instanceof CairnError ? err.code : undefined;
    failure = { code, message: (err as Error).message, errorCode };
  }
  const f = failure;
  if (!f) return EXIT.ok;
  if (json)
    process.stderr.write(
      `${JSON.stringify({ error: { code: f.errorCode ?? CODE_OF_EXIT[f.code] ?? 'error', message: f.message } })}\n`,
    );
  else
    process.stderr.write(
      `cairn: ${f.message}${f.code === EXIT.usage ? '\n(see cairn --help)' : ''}\n`,
    );
  return f.code;
}

/** The `--json` error code of a CLI failure that carries no server code, by exit code. */
const CODE_OF_EXIT: Record<number, string> = {
  [EXIT.usage]: 'usage',
  [EXIT.notFound]: 'not_found',
  [EXIT.conflict]: 'conflict',
  [EXIT.auth]: 'unauthorized',
  [EXIT.timeout]: 'timeout',
};

/** The part of yargs' internals {@link skipHelpCache} reaches (yargs 17). */
interface YargsInternals {
  getInternalMethods?: () => { getUsageInstance?: () => { cacheHelpMessage?: () => void } };
}

/**
 * Stops yargs from laying out the whole `--help` text each time a command runs: it does so
 * right after starting the handler (~15 ms of CPU, wrapping every command's line), to show it
 * should the command fail later; here a failure goes to `.fail` above, which throws and never
 * shows help. `--help` itself is laid out as before. Without those internals, nothing changes.
 */
function skipHelpCache(parser: unknown): void {
  const usage = (parser as YargsInternals).getInternalMethods?.().getUsageInstance?.();
  if (usage && typeof usage.cacheHelpMessage === 'function') usage.cacheHelpMessage = () => {};
}

/** A mistake in the command line itself (exit 2); nothing was sent to the server. */
class UsageError extends Error {}

export type { GlobalArgs };
