import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../src/config.js';
import { ROOT, spawnServer, tempDir, type ServerProcess } from '../helpers/server.js';
import { readmeShellBlocks, runReadmeBlock } from './readme-blocks.js';

let dir: string;
let server: ServerProcess;
beforeAll(async () => {
  dir = tempDir();
  server = await spawnServer(join(dir, 'cairn-data'));
});
afterAll(async () => server.stop());

const runBlock = (block: string) => runReadmeBlock(block, { cwd: dir, serverUrl: server.url });

describe('README quick path, run as written', () => {
  it('the first screen names exactly the two commands: npm ci && npm start, npm test', () => {
    const firstScreen = readFileSync(join(ROOT, 'README.md'), 'utf8').split('\n').slice(0, 12).join('\n');
    expect(firstScreen).toContain('npm ci && npm start');
    expect(firstScreen).toContain('npm test');
    expect(firstScreen).toContain('http://127.0.0.1:7070');
    expect(DEFAULTS).toMatchObject({ host: '127.0.0.1', port: 7070, dataDir: './cairn-data', durability: 'full' });
  });

  it('CLI block: push, ls, seal, pull, share (token found in ./cairn-data by itself)', () => {
    const [cli] = readmeShellBlocks('Quick path');
    const r = runBlock(cli);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/output\.json\s+1\s/);
    expect(r.stdout).toContain('agent=claude-sonnet pipeline=billing');
    expect(r.stdout).toMatch(/sealed run_42\ndigest [0-9a-f]{64}/);
    expect(readFileSync(join(dir, 'copy.json'), 'utf8')).toBe(readFileSync(join(dir, 'output.json'), 'utf8'));
    const link = /(http:\/\/\S+\/s\/\S+)/.exec(r.stdout)?.[1];
    expect(link).toBeDefined();
  });

  it('HTTP block: the same steps with curl', () => {
    const [, http] = readmeShellBlocks('Quick path');
    writeFileSync(join(dir, 'output.json'), '{"total": 42}\n');
    const r = runBlock(http);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('"name":"output.json"');
    expect(r.stdout).toContain('"sealed":true');
    expect(r.stdout.trim().endsWith('{"total": 42}')).toBe(true);
  });
});

describe('npm start and shutdown', () => {
  it('npm start runs cairn serve and prints where the admin token is', async () => {
    const data = join(tempDir(), 'cairn-data');
    const child = spawn('npm', ['start', '--silent'], {
      cwd: ROOT,
      env: { ...process.env, CAIRN_PORT: '0', CAIRN_DATA: data },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    try {
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no start: ${out}`)), 30_000);
        child.stdout.on('data', () => {
          if (out.includes('admin token')) {
            clearTimeout(t);
            resolve();
          }
        });
      });
      expect(out).toMatch(/Cairn listening on http:\/\/127\.0\.0\.1:\d+/);
      expect(out).toContain(`data: ${data}`);
      expect(out).toContain(`admin token written to ${data}/admin.token`);
    } finally {
      process.kill(-(child.pid as number), 'SIGKILL');
    }
  });

  it.each(['SIGTERM', 'SIGINT'] as const)('cairn serve closes the catalog and exits 0 on %s', async (signal) => {
    const data = join(tempDir(), 'data');
    const first = await spawnServer(data);
    // 'close', not 'exit': the last stdout line may still be in the pipe at exit.
    const exited = new Promise<number | null>((resolve) => first.child.on('close', (c) => resolve(c)));
    let out = '';
    first.child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    first.child.kill(signal);
    expect(await exited).toBe(0);
    expect(out).toContain('Cairn stopped');
    // Closed cleanly: the WAL was checkpointed into the database file and removed.
    expect(existsSync(join(data, 'catalog.db-wal'))).toBe(false);
    const again = await spawnServer(data);
    expect(readFileSync(join(data, 'admin.token'), 'utf8').trim()).toBe(again.token);
    await again.stop();
  });
});
