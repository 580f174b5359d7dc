import { copyFileSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, startTestServer, tempDir, type TestServer } from '../helpers/server.js';
import { launchBrowser, signIn, type TestBrowser } from './browser.js';
import { seedDemo } from './seed.js';

// The README's screenshots. They are always taken (and checked); with CAIRN_SCREENSHOTS=1 they
// are also copied to docs/:  CAIRN_SCREENSHOTS=1 npx vitest run test/browser/screenshots.test.ts
const OUT = tempDir('cairn-shots-');
const publish = process.env.CAIRN_SCREENSHOTS === '1';

let s: TestServer;
let demo: Awaited<ReturnType<typeof seedDemo>>;
beforeAll(async () => {
  s = await startTestServer();
  demo = await seedDemo(s);
});
afterAll(async () => {
  await s?.close();
  rmSync(OUT, { recursive: true, force: true });
});

async function shoot(b: TestBrowser, name: string, path: string, settle: string) {
  await b.page.goto(s.url + path);
  await b.page.waitForSelector(settle);
  await b.page.waitForLoadState('networkidle');
  const file = join(OUT, `${name}.png`);
  await b.page.screenshot({ path: file });
  const png = readFileSync(file);
  expect(png.subarray(1, 4).toString()).toBe('PNG');
  if (publish) {
    mkdirSync(join(ROOT, 'docs'), { recursive: true });
    copyFileSync(file, join(ROOT, 'docs', `browse-${name}.png`));
  }
}

describe.each(['light', 'dark'] as const)('%s theme', (scheme) => {
  let b: TestBrowser;
  beforeAll(async () => {
    b = await launchBrowser({ colorScheme: scheme, width: 1280, height: 760 });
    await signIn(b.page, s.url, s.token);
  });
  afterAll(async () => b?.close());

  if (scheme === 'light') {
    it('sessions, session, previews, diff', async () => {
      await shoot(b, 'sessions', '/ui/sessions', '#sessions');
      await shoot(b, 'session', '/ui/sessions/nightly_1', '#seal-status:not(:text("checking"))');
      await shoot(b, 'run', '/ui/sessions/run_42', '#artifacts');
      await shoot(b, 'markdown', `/ui/artifacts/${demo.md.id}`, '#lineage-panel ul');
      await shoot(b, 'csv', `/ui/artifacts/${demo.csv.id}`, '#csv-table');
      await shoot(b, 'json', `/ui/artifacts/${demo.json.id}`, '#json-tree');
      await shoot(b, 'diff', `/ui/artifacts/${demo.log2.id}?diff=${demo.log1.id}`, '#diff');
      expect(b.errors).toEqual([]);
    });

    it('keyboard focus is visible', async () => {
      await b.page.goto(`${s.url}/ui/sessions`);
      await b.page.waitForSelector('#sessions');
      await b.page.keyboard.press('Tab');
      const outline = await b.page.evaluate(
        `getComputedStyle(document.activeElement).outlineStyle + ' ' + getComputedStyle(document.activeElement).outlineWidth`,
      );
      expect(outline).toBe('solid 2px');
    });
  } else {
    it('sessions and an artifact in dark mode', async () => {
      await shoot(b, 'dark-run', '/ui/sessions/run_42', '#artifacts');
      await shoot(b, 'dark-markdown', `/ui/artifacts/${demo.md.id}`, '#lineage-panel ul');
      expect(b.errors).toEqual([]);
    });
  }
});
