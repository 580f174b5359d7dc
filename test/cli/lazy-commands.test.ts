import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { commandName } from '../../src/cli/command-select.js';
import { commands, isLazy } from '../../src/cli/commands/index.js';
import { CLI, tempDir } from '../helpers/server.js';

describe('commands are loaded only when they run', () => {
  it.each(commands.filter(isLazy).map((c) => [c.command, c] as const))(
    '%s: the listed usage line and description are its module’s',
    async (_name, c) => {
      const m = await c.load();
      expect({ command: m.command, describe: m.describe }).toEqual({
        command: c.command,
        describe: c.describe,
      });
    },
  );

  it.each([
    [['push', 'dir', '-s', 'x'], 'push'],
    [['--url', 'http://h', 'push'], 'push'],
    [['--url=http://h', '--token', 'push', 'ls'], 'ls'],
    [['--json', 'false', 'version'], 'version'],
    [['--json', 'show', 's1'], 'show'],
    [['-q', '--format', '{id}', 'ls'], 'ls'],
    [['--help'], undefined],
    [['--get-yargs-completions', 'pull', '--se'], 'pull'],
  ])('%j runs %s', (argv, name) => {
    expect(commandName(argv)).toBe(name);
  });

  // What a process loaded, through a module resolve hook writing every URL to a file.
  const loaded = (args: string[], url = 'http://127.0.0.1:9'): string[] => {
    const log = join(tempDir(), 'modules.txt');
    const hooks = `import { appendFileSync } from 'node:fs';
let f; export function initialize(d) { f = d; }
export async function resolve(s, c, next) {
  const r = await next(s, c);
  appendFileSync(f, r.url + '\\n');
  return r;
}`;
    const register = `import { register } from 'node:module';
register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(hooks)}), { parentURL: import.meta.url, data: ${JSON.stringify(log)} });`;
    const r = spawnSync(
      process.execPath,
      ['--import', `data:text/javascript,${encodeURIComponent(register)}`, CLI, ...args],
      { encoding: 'utf8', env: { ...process.env, CAIRN_URL: url } },
    );
    expect(r.status, r.stderr).not.toBeNull();
    return readFileSync(log, 'utf8').trim().split('\n');
  };

  it.each([[['--help']], [['--version']], [['push', '--help']], [['ls', '--json']]])(
    '%j loads nothing of the server, MCP, zod or the other commands',
    (args) => {
      const urls = loaded(args);
      expect(urls.some((u) => u.includes('/cli/cli.js'))).toBe(true);
      const heavy = urls.filter((u) =>
        /\/(server|mcp|catalog|blobs)\/|node_modules\/(zod|@modelcontextprotocol|better-sqlite3)\//.test(
          u,
        ),
      );
      expect(heavy).toEqual([]);
      const others = urls.filter((u) => /\/commands\/(serve|verify|mcp|backup)\.js$/.test(u));
      expect(others).toEqual([]);
    },
  );
  // https (and tls under it) only when the URL is https: a plain-HTTP command has no use for
  // them, and on Node 22 https starts reading the NODE_EXTRA_CA_CERTS file.
  it.each([
    ['http://127.0.0.1:9', false],
    ['https://127.0.0.1:9', true],
  ])('ls against %s loads node:https: %s', (url, https) => {
    const urls = loaded(['ls'], url).filter((u) => /^node:https?$/.test(u));
    expect([...new Set(urls)]).toEqual([https ? 'node:https' : 'node:http']);
  });
});
