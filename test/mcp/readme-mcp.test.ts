import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readmeShellBlocks } from '../docs/readme-blocks.js';
import { CLI, ROOT, spawnServer, tempDir, type ServerProcess } from '../helpers/server.js';
import { TOOL_NAMES } from './tool-suite.js';

/** One MCP server entry as the README configures it. */
interface Entry {
  command?: string;
  args?: string[];
  env?: Record<string, string>;
  url?: string;
  headers?: Record<string, string>;
}

let server: ServerProcess;
let dataDir: string;
let cwd: string;

/** README placeholders → the test server: its URL, its token. */
function live(text: string): string {
  return text
    .replaceAll('http://127.0.0.1:7070', server.url)
    .replaceAll('$CAIRN_TOKEN', server.token)
    .replaceAll('cairn_…', server.token);
}

/** Connects the SDK client exactly as a client configured with `entry` would. */
async function connect(entry: Entry): Promise<Client> {
  const client = new Client({ name: 'readme-check', version: '1.0.0' });
  if (entry.url) {
    const headers = Object.fromEntries(
      Object.entries(entry.headers ?? {}).map(([k, v]) => [k, live(v)]),
    );
    await client.connect(
      new StreamableHTTPClientTransport(new URL(live(entry.url)), { requestInit: { headers } }),
    );
    return client;
  }
  // `cairn` is the single binary or the checkout's bin/cairn.js.
  expect(entry.command).toBe('cairn');
  const args = (entry.args ?? []).map((a) => (a === '/home/me/work' ? cwd : live(a)));
  const env = Object.fromEntries(Object.entries(entry.env ?? {}).map(([k, v]) => [k, live(v)]));
  await client.connect(
    new StdioClientTransport({
      command: process.execPath,
      args: [CLI, ...args],
      env: { PATH: process.env.PATH ?? '', ...env },
      cwd,
      stderr: 'pipe',
    }),
  );
  return client;
}

/** Parses a `claude mcp add …` line (options before the name, `--` before a stdio command). */
function parseClaudeAdd(line: string): Entry {
  const words = [...line.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]);
  expect(words.slice(0, 3)).toEqual(['claude', 'mcp', 'add']);
  const entry: Entry = { env: {}, headers: {} };
  const rest = words.slice(3);
  const positional: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const w = rest[i];
    if (w === '--') {
      entry.command = rest[i + 1];
      entry.args = rest.slice(i + 2);
      break;
    }
    if (w === '--transport') i++;
    else if (w === '--env') {
      const [k, ...v] = rest[++i].split('=');
      entry.env![k] = v.join('=');
    } else if (w === '--header') {
      const [k, ...v] = rest[++i].split(':');
      entry.headers![k.trim()] = v.join(':').trim();
    } else positional.push(w);
  }
  if (!entry.command) entry.url = positional[1];
  return entry;
}

async function works(entry: Entry): Promise<void> {
  const client = await connect(entry);
  try {
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(TOOL_NAMES);
    const res = await client.callTool({
      name: 'push_artifact',
      arguments: { session: 'readme_1', name: 'hello.md', text: '# hi' },
    });
    expect(res.isError, JSON.stringify(res.content)).not.toBe(true);
  } finally {
    await client.close();
  }
}

beforeAll(async () => {
  dataDir = tempDir('cairn-readme-mcp-');
  cwd = tempDir('cairn-readme-mcp-cwd-');
  server = await spawnServer(dataDir);
}, 30_000);
afterAll(async () => {
  await server?.stop();
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(cwd, { recursive: true, force: true });
});

describe('README "MCP server" configurations work as written', () => {
  const lines = readmeShellBlocks('MCP server')
    .join('\n')
    .split('\n')
    .filter((l) => l.startsWith('claude mcp add'));

  it('has a stdio and an HTTP `claude mcp add`', () => {
    expect(lines.some((l) => l.includes('--transport stdio'))).toBe(true);
    expect(lines.some((l) => l.includes('--transport http'))).toBe(true);
  });

  it.each(lines)('%s', async (line) => works(parseClaudeAdd(line)), 30_000);

  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('\n## MCP server\n');
  const section = readme.slice(start, readme.indexOf('\n## ', start + 4));
  const configs = [...section.matchAll(/```json\n([\s\S]*?)```/g)].flatMap((m) =>
    Object.entries((JSON.parse(m[1]) as { mcpServers: Record<string, Entry> }).mcpServers),
  );

  it('has Claude Desktop and Cursor JSON with stdio and HTTP entries', () => {
    expect(configs.filter(([, e]) => e.command).length).toBeGreaterThanOrEqual(2);
    expect(configs.filter(([, e]) => e.url).length).toBeGreaterThanOrEqual(1);
  });

  it.each(configs)('JSON entry %s', async (_name, entry) => works(entry), 30_000);
});
