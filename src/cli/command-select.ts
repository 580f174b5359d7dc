import type { CommandModule } from 'yargs';
import { CliError, EXIT } from './context.js';
import { commands, isLazy, type LazyCommand } from './commands/index.js';

/** Global options that take a value (`--url X`, `--url=X`): the value is not the command. */
const VALUE_OPTIONS = new Set(['--url', '--token', '--format']);
/** Global booleans, which yargs lets take an explicit `true`/`false` next. */
const BOOLEAN_OPTIONS = new Set(['--json', '--quiet', '-q']);

/**
 * The command modules to hand yargs for `argv`: the one command it names loaded whole, every
 * other as its usage line and description only (enough for `--help`, suggestions and
 * completion of command names). Resolves every module eagerly listed as it is.
 */
export async function commandsFor(argv: string[]): Promise<CommandModule[]> {
  const name = commandName(argv);
  return Promise.all(
    commands.map(async (c) => {
      if (!isLazy(c)) return c;
      return nameOf(c) === name ? c.load() : outline(c);
    }),
  );
}

/**
 * The word yargs will take as the command: the first argument that is neither an option nor
 * the value of a global option (see {@link VALUE_OPTIONS}, {@link BOOLEAN_OPTIONS}).
 */
export function commandName(argv: string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') return argv[i + 1];
    if (VALUE_OPTIONS.has(a)) i++;
    else if (BOOLEAN_OPTIONS.has(a) && (argv[i + 1] === 'true' || argv[i + 1] === 'false')) i++;
    else if (!a.startsWith('-')) return a;
  }
  return undefined;
}

/** The command word of a usage line: `push [files..]` → `push`. */
function nameOf(c: { command?: string | readonly string[] }): string {
  return String(c.command).split(' ')[0];
}

/**
 * A command as `--help` lists it, never run: yargs runs only the command `argv` names, which
 * {@link commandsFor} loaded whole. Should the two ever disagree, this says so instead of
 * running a command whose options were never declared.
 */
function outline(c: LazyCommand): CommandModule {
  return {
    command: c.command,
    describe: c.describe,
    handler: () => {
      throw new CliError(
        `could not tell which command to run: put it first (cairn ${nameOf(c)} …)`,
        EXIT.usage,
      );
    },
  };
}
