import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, spawnServer, tempDir, type ServerProcess } from '../helpers/server.js';
import { call } from './tool-suite.js';

// Issue 19: the path check was racy. A second process swaps `root/d` between a real directory
// and a symlink to `outside` as fast as it can while the tools read `d/f.txt` and write under
// `d/`: nothing outside the root may ever be read or written, and every refusal is a clean
// error code (never `internal`).

/**
 * The swapper: `d` becomes a symlink to outside and back, until `stop` exists; prints its
 * round count. A pull may create `d` while it is briefly absent: that directory (inside the
 * root) is removed so the swapping goes on.
 */
const SWAPPER = `
const { renameSync, rmSync, existsSync } = require('node:fs');
const p = (n) => process.argv[1] + '/' + n;
const pause = new Int32Array(new SharedArrayBuffer(4));
const put = (from, to) => {
  for (;;) {
    try { return renameSync(p(from), p(to)); } catch {}
    try { rmSync(p(to), { recursive: true, force: true }); } catch {}
  }
};
let n = 0;
while (!(n % 64 === 0 && existsSync(p('stop')))) {
  put('d', 'd.real'); put('d.link', 'd'); put('d', 'd.link'); put('d.real', 'd');
  // Mostly a real directory, so that calls also succeed between swaps.
  Atomics.wait(pause, 0, 0, 0.2);
  n++;
}
process.stdout.write(String(n));
`;

const INSIDE = 'inside bytes';
const sha = (s: string) => createHash('sha256').update(s).digest('hex');
/** The only refusals a race may cause. */
const CLEAN = ['path_changed', 'path_not_allowed', 'file_not_found', 'not_a_file'];
/** Successes and refusals each kind of call must reach, so the race really happened. */
const FLOOR = 10;
const MAX_ROUNDS = 1000;

let server: ServerProcess;
let root: string;
let outside: string;
let swapper: ChildProcess;
let swaps: Promise<number>;
const clients: Record<string, Client> = {};

beforeAll(async () => {
  root = realpathSync(tempDir('cairn-race-root-'));
  outside = realpathSync(tempDir('cairn-race-out-'));
  mkdirSync(join(root, 'd'));
  writeFileSync(join(root, 'd', 'f.txt'), INSIDE);
  writeFileSync(join(outside, 'f.txt'), 'OUTSIDE secret bytes');
  symlinkSync(outside, join(root, 'd.link'));
  server = await spawnServer(tempDir('cairn-race-data-'), ['--mcp-allow-path', root]);
  clients.stdio = new Client({ name: 't', version: '1' });
  await clients.stdio.connect(
    new StdioClientTransport({
      command: process.execPath,
      args: [CLI, 'mcp', '--allow-path', root],
      cwd: root,
      env: { PATH: process.env.PATH ?? '', CAIRN_URL: server.url, CAIRN_TOKEN: server.token },
      stderr: 'pipe',
    }),
  );
  clients.http = new Client({ name: 't', version: '1' });
  await clients.http.connect(
    new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`), {
      requestInit: { headers: { Authorization: `Bearer ${server.token}` } },
    }),
  );
  await call(clients.stdio, 'push_artifact', { session: 'race', name: 'p.txt', text: 'pulled' });
  swapper = spawn(process.execPath, ['-e', SWAPPER, root], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  swaps = new Promise((resolve) => {
    let out = '';
    swapper.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    swapper.on('exit', () => resolve(Number(out)));
  });
}, 30_000);
afterAll(async () => {
  writeFileSync(join(root, 'stop'), '');
  await swaps;
  for (const c of Object.values(clients)) await c.close();
  await server?.stop();
  for (const d of [root, outside]) rmSync(d, { recursive: true, force: true });
});

describe.each(['stdio', 'http'])('a directory swapped for a symlink during calls (%s)', (t) => {
  it('never reads or writes outside the root, and refuses cleanly', async () => {
    const c = clients[t];
    const seen = { read: { ok: 0, refused: 0 }, write: { ok: 0, refused: 0 } };
    const codes = new Set<string>();
    const enough = () => Object.values(seen).every((s) => s.ok >= FLOOR && s.refused >= FLOOR);
    for (let round = 0; round < MAX_ROUNDS && !enough(); round++) {
      const [read, write, deep] = await Promise.all([
        call(c, 'push_file', { session: 'race', path: 'd/f.txt', name: `r_${t}` }),
        call(c, 'pull_artifact', { session: 'race', name: 'p.txt', path: 'd/out.txt' }),
        call(c, 'pull_artifact', { session: 'race', name: 'p.txt', path: `d/n${round}/out.txt` }),
      ]);
      // A read that succeeded read the file inside, never the one outside.
      if (read.isError) codes.add(read.structured.error?.code ?? 'none');
      else expect(read.structured.sha256, 'read outside the root').toBe(sha(INSIDE));
      seen.read[read.isError ? 'refused' : 'ok']++;
      for (const w of [write, deep]) {
        if (w.isError) codes.add(w.structured.error?.code ?? 'none');
        else expect(w.structured.path as string).toMatch(new RegExp(`^${root}/`));
        seen.write[w.isError ? 'refused' : 'ok']++;
      }
      expect(readdirSync(outside), `written outside in round ${round}`).toEqual(['f.txt']);
    }
    expect([...codes].filter((code) => !CLEAN.includes(code))).toEqual([]);
    process.stdout.write(`race ${t}: ${JSON.stringify({ ...seen, codes: [...codes] })}\n`);
    expect(seen.read.ok, JSON.stringify(seen)).toBeGreaterThanOrEqual(FLOOR);
    expect(seen.read.refused, JSON.stringify(seen)).toBeGreaterThanOrEqual(FLOOR);
    expect(seen.write.ok, JSON.stringify(seen)).toBeGreaterThanOrEqual(FLOOR);
    expect(seen.write.refused, JSON.stringify(seen)).toBeGreaterThanOrEqual(FLOOR);
  }, 600_000);
});
