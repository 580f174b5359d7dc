import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnServer, tempDir, type ServerProcess } from '../helpers/server.js';
import {
  localReadmeText,
  readmeSectionBlocks,
  readmeShellBlocks,
  runReadmeBlock,
} from '../docs/readme-blocks.js';

let dir: string;
let server: ServerProcess;
beforeAll(async () => {
  dir = tempDir();
  server = await spawnServer(join(dir, 'cairn-data'));
});
afterAll(async () => server.stop());

const runSh = (block: string) => runReadmeBlock(block, { cwd: dir, serverUrl: server.url });

describe('README Directories, run as written', () => {
  it('pushes a tree (excluding the log), re-pushes nothing with --sync, pulls it back', () => {
    const [cli] = readmeShellBlocks('Directories');
    const r = runSh(cli);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe('3');
    expect(r.stderr).toContain('3 file(s) unchanged since the latest version, not pushed (--sync)');
    expect(r.stdout.trim().endsWith('{"page": 2}')).toBe(true);
    expect(readFileSync(join(dir, 'report-copy', 'pages', '1.json'), 'utf8')).toBe('{"page": 1}\n');
  });

  it('the curl batch and the Python batch push as written', () => {
    const [, curl] = readmeShellBlocks('Directories');
    const r = runSh(curl);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n').sort()).toEqual([
      '"name":"pages/1.json"',
      '"name":"pages/2.json"',
      '"name":"pages/3.json"',
    ]);
    const [py] = readmeSectionBlocks('Directories', 'python');
    const p = spawnSync('python3', ['-c', localReadmeText(py, server.url)], {
      cwd: dir,
      encoding: 'utf8',
    });
    expect(p.stderr).toBe('');
    expect(p.stdout.trim()).toBe('201');
  });
});
