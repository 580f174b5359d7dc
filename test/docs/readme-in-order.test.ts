import { spawn } from 'node:child_process';
import { symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, ROOT, spawnServer, tempDir, type ServerProcess } from '../helpers/server.js';
import { readmeBlocks, type ReadmeBlock } from './readme-blocks.js';

// A new user reads the README top to bottom and runs every block, on one server, in one
// directory. So does this test: a block that only works on a fresh server (a session id
// another section already sealed) or needs a file no block made fails here.

/** Blocks this test does not run, each with the test that runs it or why it cannot. */
const ELSEWHERE: [section: string, starts: string, why: string][] = [
  ['', 'npm ci && npm start', 'this test starts the server; test/docs/readme-quick-path'],
  ['MCP server', 'claude mcp add', 'needs Claude Code; test/mcp/readme-mcp checks the commands'],
  ['Single binary', 'npm run build:binary', 'a minutes-long build; test/binary/readme-binary'],
  ['Single binary', './cairn version', 'needs dist/cairn; test/binary/readme-binary'],
  ['Benchmarks', '', 'minutes of load; test/bench/bench-quick runs them quick'],
  [
    'Coming from Artifacta',
    '',
    'a second listener on its own port; test/docs/readme-artifacta runs them in order',
  ],
];

const elsewhere = (b: ReadmeBlock) =>
  ELSEWHERE.some(([s, start]) => b.section === s && b.code.startsWith(start));

let dir: string;
let server: ServerProcess;
beforeAll(async () => {
  dir = tempDir();
  server = await spawnServer(join(dir, 'cairn-data'));
  // `pip install ./clients/python` is written for the checkout's root.
  symlinkSync(join(ROOT, 'clients'), join(dir, 'clients'));
});
afterAll(async () => server.stop());

/** Runs one sh block with bash -euo pipefail, `npx cairn` being this checkout's CLI. */
function run(code: string): Promise<{ status: number | null; out: string }> {
  const script = code.replaceAll('npx cairn', `node ${CLI}`).replaceAll('http://127.0.0.1:7070', server.url);
  const child = spawn('bash', ['-euo', 'pipefail', '-c', script], {
    cwd: dir,
    env: {
      ...process.env,
      CAIRN_URL: server.url,
      CAIRN_TOKEN: '', // found in ./cairn-data, as on the README's machine
      PYTHONPATH: '',
      PYTHONDONTWRITEBYTECODE: '1',
      PIP_NO_INDEX: '1',
      PIP_DISABLE_PIP_VERSION_CHECK: '1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve) => child.on('close', (status) => resolve({ status, out })));
}

describe('README, every block in README order on one server', () => {
  it('lists exactly the blocks that run elsewhere', () => {
    for (const [section, start] of ELSEWHERE)
      expect(
        readmeBlocks().some((b) => b.section === section && b.code.startsWith(start)),
        `${section}: ${start}`,
      ).toBe(true);
  });

  it('runs them all, each exiting 0', async () => {
    const blocks = readmeBlocks().filter((b) => !elsewhere(b));
    // A block that says its agent is "started first" waits for the next block to seal.
    let background: { name: string; done: ReturnType<typeof run> } | undefined;
    const ran: string[] = [];
    for (const b of blocks) {
      const name = `${b.section}: ${b.code.split('\n')[0]}`;
      if (b.lang === 'python') {
        const file = /^# (\w+\.py):/.exec(b.code)?.[1];
        expect(file, `${name} names its file`).toBeDefined();
        writeFileSync(join(dir, file as string), b.code);
        continue;
      }
      if (/started first/.test(b.code.split('\n')[0])) {
        background = { name, done: run(b.code) };
        continue;
      }
      const r = await run(b.code);
      expect(r.status, `${name}\n${r.out}`).toBe(0);
      ran.push(name);
      if (background) {
        const bg = await background.done;
        expect(bg.status, `${background.name}\n${bg.out}`).toBe(0);
        ran.push(background.name);
        background = undefined;
      }
    }
    expect(background).toBeUndefined();
    expect(ran.map((n) => n.split(':')[0])).toEqual(
      expect.arrayContaining(['Quick path', 'Retention and sharing', 'Pipelines', 'Browse page', 'Python SDK']),
    );
  }, 600_000);
});
