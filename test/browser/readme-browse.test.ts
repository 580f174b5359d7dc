import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readmeShellBlocks } from '../docs/readme-blocks.js';
import { CLI, spawnServer, tempDir, type ServerProcess } from '../helpers/server.js';
import { launchBrowser, signIn, type TestBrowser } from './browser.js';

let dir: string;
let server: ServerProcess;
let b: TestBrowser;
beforeAll(async () => {
  dir = tempDir();
  server = await spawnServer(join(dir, 'cairn-data'));
  b = await launchBrowser();
});
afterAll(async () => {
  await b?.close();
  await server?.stop();
});

describe('README "Browse page", as written, against `cairn serve`', () => {
  it('a read token from the README command browses but cannot seal', async () => {
    const [block] = readmeShellBlocks('Browse page');
    const r = spawnSync(
      'bash',
      ['-euo', 'pipefail', '-c', block.replaceAll('npx cairn', `node ${CLI}`)],
      {
        cwd: dir,
        encoding: 'utf8',
        env: { ...process.env, CAIRN_URL: server.url, CAIRN_TOKEN: '' },
      },
    );
    expect(r.status).toBe(0);
    const token = r.stdout.split('\n')[0].trim();
    expect(token.length).toBeGreaterThan(20);

    const put = await fetch(`${server.url}/v1/sessions/run_7/artifacts/notes.md`, {
      method: 'PUT',
      body: '# hello',
      headers: { Authorization: `Bearer ${server.token}`, 'Content-Type': 'text/markdown' },
    });
    expect(put.status).toBe(201);

    await signIn(b.page, server.url, token);
    await b.page.click('a:text("run_7")');
    await b.page.waitForSelector('#artifacts');
    await b.page.click('#seal');
    await b.page.click('#dlg-confirm');
    await b.page.waitForSelector('#toast');
    expect(await b.page.textContent('#toast')).toMatch(/^Not sealed: .*(scope|write)/);
    const rec = (await (
      await fetch(`${server.url}/v1/sessions/run_7`, {
        headers: { Authorization: `Bearer ${token}` },
      })
    ).json()) as { sealed: boolean };
    expect(rec.sealed).toBe(false);
    expect(b.dialogs).toEqual([]);
  });
});
