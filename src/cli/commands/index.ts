import type { CommandModule } from 'yargs';

/**
 * A command known by its usage line and description alone; its module (and all it imports:
 * the server, the MCP SDK, zod, tar-stream…) is imported only when that command runs. A
 * `cairn push` or `cairn --help` thus loads one command module or none (startup was ~60% of an
 * unchanged re-push).
 */
export interface LazyCommand {
  command: string;
  describe: string;
  load: () => Promise<CommandModule>;
}

const lazy = (
  command: string,
  describe: string,
  load: () => Promise<CommandModule>,
): LazyCommand => ({ command, describe, load });

// Each entry's usage line and description are those of its module (test/cli/lazy-commands
// checks they match). A command module may also be listed as it is (loaded eagerly).
/** Every CLI command, in `--help` order. */
export const commands: (LazyCommand | CommandModule)[] = [
  lazy('serve', 'Run the Cairn server (HTTP API, browse page, MCP at /mcp)', async () =>
    cmd((await import('./serve.js')).serveCommand),
  ),
  lazy('push [files..]', 'Push files, directories or - (stdin) into a session', async () =>
    cmd((await import('./push.js')).pushCommand),
  ),
  lazy(
    'pull <target>',
    'Download SESSION/NAME, an artifact ID, or every latest artifact of SESSION',
    async () => cmd((await import('./pull.js')).pullCommand),
  ),
  lazy('ls', 'List or query artifacts, newest first', async () =>
    cmd((await import('./ls.js')).lsCommand),
  ),
  lazy('sessions', 'List sessions, newest first', async () =>
    cmd((await import('./sessions.js')).sessionsCommand),
  ),
  lazy(
    'show <session>',
    'Show a session and its artifacts (--limit/--cursor: a page of them, newest first)',
    async () => cmd((await import('./show.js')).showCommand),
  ),
  lazy('seal <session>', 'Seal a session (immutable, with a verifiable digest)', async () =>
    cmd((await import('./seal.js')).sealCommand),
  ),
  lazy(
    'rm <target>',
    'Delete an artifact (ID) or an open session with all its artifacts (SESSION)',
    async () => cmd((await import('./rm.js')).rmCommand),
  ),
  lazy(
    'share <target>',
    'Print an expiring link (no token needed) to SESSION/NAME, an artifact ID or a SESSION',
    async () => cmd((await import('./share.js')).shareCommand),
  ),
  lazy('shares', 'List share links (never their secrets)', async () =>
    cmd((await import('./shares.js')).sharesCommand),
  ),
  lazy('unshare <id>', 'Revoke a share link', async () =>
    cmd((await import('./unshare.js')).unshareCommand),
  ),
  lazy('pin <session>', 'Pin a session: it and its artifacts never expire while pinned', async () =>
    cmd((await import('./pin.js')).pinCommand),
  ),
  lazy('unpin <session>', 'Unpin a session: its TTLs apply again', async () =>
    cmd((await import('./unpin.js')).unpinCommand),
  ),
  lazy(
    'gc',
    'Remove expired sessions/artifacts and unreferenced bytes now (--dry-run: report only)',
    async () => cmd((await import('./gc.js')).gcCommand),
  ),
  lazy(
    'fsck',
    'Check every blob and catalog row (--repair fixes counts and removes orphans)',
    async () => cmd((await import('./fsck.js')).fsckCommand),
  ),
  lazy(
    'backup <out>',
    'Back up a running server consistently into FILE (a tar; - for stdout)',
    async () => cmd((await import('./backup.js')).backupCommand),
  ),
  lazy(
    'restore <source>',
    'Restore a backup (tar file, - for stdin, or an old backup dir) into an empty store',
    async () => cmd((await import('./restore.js')).restoreCommand),
  ),
  lazy(
    'migrate',
    'Copy a whole store to another catalog/blob backend (no server running on either)',
    async () => cmd((await import('./migrate.js')).migrateCommand),
  ),
  lazy(
    'wait <session>',
    'Wait until a session is sealed (exit 0), or exit 6 at the timeout',
    async () => cmd((await import('./wait.js')).waitCommand),
  ),
  lazy(
    'events',
    'Follow events (artifact.created/deleted, session.sealed/expired) as they happen',
    async () => cmd((await import('./events.js')).eventsCommand),
  ),
  lazy(
    'lineage <id>',
    'Show what an artifact was derived from and what was derived from it',
    async () => cmd((await import('./lineage.js')).lineageCommand),
  ),
  lazy(
    'verify <target>',
    'Verify a sealed session or export tar: signature, digest and every byte',
    async () => cmd((await import('./verify.js')).verifyCommand),
  ),
  lazy(
    'export <session>',
    'Export a session (manifest, seal, lineage and files) as a tar',
    async () => cmd((await import('./export.js')).exportCommand),
  ),
  lazy(
    'import <file>',
    'Import a session export tar (verified before anything is stored)',
    async () => cmd((await import('./import.js')).importCommand),
  ),
  lazy('token', 'Manage API tokens (admin): create --scope S, ls, revoke ID', async () =>
    cmd((await import('./token.js')).tokenCommand),
  ),
  lazy('mcp', 'MCP server on stdio (for Claude Code, Claude Desktop, Cursor…)', async () =>
    cmd((await import('./mcp.js')).mcpCommand),
  ),
  lazy('version', 'Print the version, commit and Node.js version', async () =>
    cmd((await import('./version.js')).versionCommand),
  ),
];

/** A typed command module as yargs takes it. */
function cmd(m: unknown): CommandModule {
  return m as CommandModule;
}

/** Whether `c` is a {@link LazyCommand}. */
export function isLazy(c: LazyCommand | CommandModule): c is LazyCommand {
  return 'load' in c;
}
