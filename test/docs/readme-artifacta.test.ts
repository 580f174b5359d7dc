import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, tempDir } from '../helpers/server.js';
import { readmeShellBlocks } from './readme-blocks.js';

// The "Coming from Artifacta" blocks as written: the serve line (on free ports instead of
// 7070/7071), then the key, the environment and the two curl calls, then `cairn ls`.
let dir: string;
let serve: ChildProcess;
let printed = '';

beforeAll(async () => {
  dir = tempDir();
  const [block] = readmeShellBlocks('Coming from Artifacta');
  const script = block.replaceAll('npx cairn', `node ${CLI}`).replaceAll('127.0.0.1:7071', '127.0.0.1:0');
  serve = spawn('bash', ['-c', `exec ${script}`], {
    cwd: dir,
    env: { ...process.env, CAIRN_PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  serve.stdout?.on('data', (d: Buffer) => (printed += d.toString()));
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no start: ${printed}`)), 30_000);
    serve.stdout?.on('data', () => {
      if (/Artifacta API listening on \S+/.test(printed)) {
        clearTimeout(t);
        resolve();
      }
    });
  });
});
afterAll(async () => {
  const exited = new Promise((r) => serve.once('exit', r));
  serve.kill('SIGTERM');
  await exited;
});

describe('README: Coming from Artifacta, run as written', () => {
  it('mints an ak_live_ key, answers whoami, takes a multipart upload seen by cairn ls', () => {
    const cairnUrl = /Cairn listening on (\S+)/.exec(printed)?.[1] ?? '';
    const apiUrl = /Artifacta API listening on (\S+)/.exec(printed)?.[1] ?? '';
    const [, block] = readmeShellBlocks('Coming from Artifacta');
    const script = block.replaceAll('npx cairn', `node ${CLI}`).replaceAll('http://127.0.0.1:7071', apiUrl);
    const r = spawnSync('bash', ['-euo', 'pipefail', '-c', script], {
      cwd: dir,
      encoding: 'utf8',
      env: { ...process.env, CAIRN_URL: cairnUrl, CAIRN_TOKEN: '' },
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('"plan":"self-hosted"');
    expect(r.stdout).toMatch(/"artifact_id":"art_[A-Za-z0-9]{16}"/);
    expect(r.stdout).toContain('"metadata":{"agent":"claude-sonnet","pipeline":"billing"}');
    expect(r.stdout).toMatch(/output\.json\s+1\s/);
  });
});
