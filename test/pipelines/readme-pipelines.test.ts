import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readmeShellBlocks } from '../docs/readme-blocks.js';
import { CLI, spawnServer, tempDir, type ServerProcess } from '../helpers/server.js';

let dir: string;
let server: ServerProcess;
beforeAll(async () => {
  dir = tempDir();
  server = await spawnServer(join(dir, 'cairn-data'));
  writeFileSync(join(dir, 'raw.csv'), 'id,amount\n1,10\n2,-3\n');
  writeFileSync(join(dir, 'clean.csv'), 'id,amount\n1,10\n');
});
afterAll(async () => {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** A README block as a bash script, with `npx cairn` pointing at this checkout's CLI. */
const script = (block: string) => block.replaceAll('npx cairn', `node ${CLI}`);
const env = () => ({ ...process.env, CAIRN_URL: server.url, CAIRN_TOKEN: '' });

async function openWaiters(): Promise<number> {
  const text = await (
    await fetch(`${server.url}/metrics`, { headers: { Authorization: `Bearer ${server.token}` } })
  ).text();
  return Number(/^cairn_open_waiters (\d+)$/m.exec(text)?.[1] ?? 0);
}

describe('README Pipelines walk-through, run as written', () => {
  it('agent B waits (started first), agent A pushes with lineage and seals, then the audit block', async () => {
    const [agentB, agentA, audit] = readmeShellBlocks('Pipelines');
    const b = spawn('bash', ['-euo', 'pipefail', '-c', script(agentB)], { cwd: dir, env: env() });
    let bOut = '';
    let bErr = '';
    b.stdout.on('data', (d: Buffer) => (bOut += d.toString()));
    b.stderr.on('data', (d: Buffer) => (bErr += d.toString()));
    const bDone = new Promise<number | null>((r) => b.on('close', r));
    while ((await openWaiters()) < 1) await new Promise((r) => setTimeout(r, 50));

    const a = spawnSync('bash', ['-euo', 'pipefail', '-c', script(agentA)], {
      cwd: dir,
      env: env(),
      encoding: 'utf8',
    });
    expect(a.stderr).toBe('');
    expect(a.status).toBe(0);
    expect(a.stdout).toMatch(/sealed etl_7\ndigest [0-9a-f]{64}/);

    expect(await bDone, bErr).toBe(0);
    // What it waited for, on stderr (A may have pushed before B's first look).
    expect(bErr).toMatch(
      /^waiting up to 10m for session etl_7 to be sealed \((it does not exist yet|it is open, \d artifacts)\)…\n$/,
    );
    expect(bOut).toMatch(/^sealed etl_7\n/);
    expect(bOut).toMatch(/clean\.csv\s+1\s/);
    expect(bOut).not.toMatch(/raw\.csv/);
    expect(bOut).toContain('OK: signature, digest and every byte match');
    expect(readFileSync(join(dir, 'input.csv'), 'utf8')).toBe('id,amount\n1,10\n');

    const r = spawnSync('bash', ['-euo', 'pipefail', '-c', script(audit)], {
      cwd: dir,
      env: env(),
      encoding: 'utf8',
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(
      /^etl_7\/raw\.csv v1 {2}a_\w+\nderived from:\n {2}\(none\)\nused by:\n└── etl_7\/clean\.csv v1/,
    );
    expect(r.stdout).toMatch(/artifact\.created\s+etl_7\s+raw\.csv v1/);
    expect(r.stdout).toMatch(/session\.sealed\s+etl_7\s+digest [0-9a-f]{64}/);
    expect(r.stdout).toContain('cairn-export.json\nfiles/clean.csv\nfiles/raw.csv\n');
    expect(r.stdout).toContain('OK: signature, digest and every byte match');
  });
});
