import type { CommandModule } from 'yargs';
import { clientFor, type GlobalArgs } from '../context.js';
import { asUsage } from '../util.js';

interface McpArgs extends GlobalArgs {
  'allow-path'?: string[];
}

/**
 * `cairn mcp`: an MCP server on stdio for Claude, Cursor and other MCP clients. It talks to the
 * Cairn server at `--url`/`CAIRN_URL` with `--token`/`CAIRN_TOKEN`; push_file and pull_artifact
 * may only touch files under the `--allow-path` directories (none given: both are off), never a
 * Cairn data directory (`$CAIRN_DATA`, `./cairn-data`, or any holding admin.token, seal.key or
 * catalog.db).
 * stdout carries only MCP messages; it runs until the client closes stdin.
 */
export const mcpCommand: CommandModule<GlobalArgs, McpArgs> = {
  command: 'mcp',
  describe: 'MCP server on stdio (for Claude Code, Claude Desktop, Cursor…)',
  builder: (y) =>
    y.option('allow-path', {
      type: 'string',
      array: true,
      describe: 'Directory push_file/pull_artifact may use (repeatable; none: both are off)',
    }),
  handler: async (args) => {
    const { serveStdio } = await import('@modelcontextprotocol/server/stdio');
    const { createCairnMcpServer } = await import('../../mcp/cairn-mcp-server.js');
    const { PathGuard } = await import('../../mcp/path-guard.js');
    const { localDataDirs } = await import('../../mcp/data-dir-marks.js');
    // No default: started from / or $HOME, a default of the cwd would serve the whole disk.
    // A missing directory is a bad flag value: a usage error, as for serve --mcp-allow-path.
    const files = asUsage(
      () =>
        new PathGuard(args['allow-path'] ?? [], {
          deny: localDataDirs(),
          offHint: 'ask the user to start `cairn mcp` with --allow-path DIR',
        }),
    );
    if (files.roots.length === 0)
      process.stderr.write(
        `${JSON.stringify({ level: 'warn', msg: 'push_file and pull_artifact are off: start cairn mcp with --allow-path DIR to let them use a directory' })}\n`,
      );
    const deps = { api: clientFor(args), files };
    const handle = serveStdio(() => createCairnMcpServer(deps), {
      onerror: (err) =>
        process.stderr.write(
          `${JSON.stringify({ level: 'error', msg: 'mcp', error: err.message })}\n`,
        ),
    });
    // Runs until stdin closes (the client went away); then exit cleanly.
    await new Promise<void>((resolve) => process.stdin.once('close', () => resolve()));
    await handle.close();
  },
};
