import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, spawnServer, tempDir, type ServerProcess } from '../helpers/server.js';
import { hostileMcpPaths, layHostileTree } from '../reliability/hostile-mcp-paths.js';
import { call } from './tool-suite.js';

// Issue 19: `cairn mcp --allow-path .` in the checkout, with the server's data dir at
// ./cairn-data, let a token limited to run_* push admin.token and seal.key and share them.
let server: ServerProcess;
let work: string;
let outside: string;
let scoped: string;
const clients: Record<string, Client> = {};

/** Every file under `dir` with its size and mtime: what "nothing was written" compares. */
function snapshot(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((p) => {
      const st = statSync(join(dir, p));
      return `${p} ${st.isDirectory() ? 'dir' : st.size} ${st.mtimeMs}`;
    })
    .sort();
}

beforeAll(async () => {
  work = tempDir('cairn-mcp-checkout-');
  outside = tempDir('cairn-mcp-dd-outside-');
  server = await spawnServer(join(work, 'cairn-data'), ['--mcp-allow-path', work]);
  layHostileTree(work, outside);
  writeFileSync(join(work, 'ok.txt'), 'fine');
  const res = await fetch(`${server.url}/v1/tokens`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${server.token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ scope: 'write', sessions: 'run_*' }),
  });
  scoped = ((await res.json()) as { token: string }).token;
  // Exactly as the README shows: run in the checkout with --allow-path .
  clients.stdio = new Client({ name: 't', version: '1' });
  await clients.stdio.connect(
    new StdioClientTransport({
      command: process.execPath,
      args: [CLI, 'mcp', '--allow-path', '.'],
      cwd: work,
      env: { PATH: process.env.PATH ?? '', CAIRN_URL: server.url, CAIRN_TOKEN: scoped },
      stderr: 'pipe',
    }),
  );
  clients.http = new Client({ name: 't', version: '1' });
  await clients.http.connect(
    new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`), {
      requestInit: { headers: { Authorization: `Bearer ${scoped}` } },
    }),
  );
}, 30_000);
afterAll(async () => {
  for (const c of Object.values(clients)) await c.close();
  await server?.stop();
  for (const d of [work, outside]) rmSync(d, { recursive: true, force: true });
});

describe.each(['stdio', 'http'])(
  'MCP file tools over %s never reach a Cairn data directory',
  (t) => {
    const session = `run_${t}`;

    it('a normal file under the allowed directory still works', async () => {
      const r = await call(clients[t], 'push_file', { session, path: join(work, 'ok.txt') });
      expect(r.isError, r.text).toBe(false);
    });

    it.each(hostileMcpPaths().map((c) => [c.name, c] as const))('%s', async (_n, c) => {
      await call(clients[t], 'push_artifact', { session, name: 'planted.txt', text: 'planted' });
      const before = [snapshot(join(work, 'cairn-data')), snapshot(join(work, 'copy-data'))];
      const before2 = snapshot(outside);
      const args =
        c.tool === 'push_file'
          ? { session, path: c.path, name: 'leak.txt' }
          : { session, name: 'planted.txt', path: c.path };
      const r = await call(clients[t], c.tool, args);
      expect(r.isError, r.text).toBe(true);
      expect(r.structured.error?.code, r.text).toBe(c.code);
      if (c.tool === 'pull_artifact') {
        // The catalog's own files change on their own (WAL); the rest must not have moved.
        const now = [snapshot(join(work, 'cairn-data')), snapshot(join(work, 'copy-data'))];
        const stable = (l: string[]) => l.filter((x) => !x.startsWith('catalog.db'));
        expect(stable(now[0])).toEqual(stable(before[0]));
        expect(now[1]).toEqual(before[1]);
        expect(snapshot(outside)).toEqual(before2);
      }
    });

    it('nothing secret was stored: the session holds only what was pushed on purpose', async () => {
      const res = await fetch(`${server.url}/v1/artifacts?session=${session}`, {
        headers: { Authorization: `Bearer ${server.token}` },
      });
      const names = ((await res.json()) as { items: { name: string }[] }).items.map((a) => a.name);
      expect([...new Set(names)].sort()).toEqual(['ok.txt', 'planted.txt']);
      const token = readFileSync(join(work, 'cairn-data', 'admin.token'), 'utf8').trim();
      for (const name of names) {
        const body = await fetch(`${server.url}/v1/sessions/${session}/artifacts/${name}`, {
          headers: { Authorization: `Bearer ${server.token}` },
        });
        expect(await body.text()).not.toContain(token);
      }
    });
  },
);
