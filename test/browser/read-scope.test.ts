import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { launchBrowser, signIn, type TestBrowser } from './browser.js';
import { seedDemo } from './seed.js';

// The browse page reads through the API with its token: a token limited to nightly_* shows
// those sessions only, and pages of other sessions and their artifacts are "not found".
let s: TestServer;
let b: TestBrowser;
let demo: Awaited<ReturnType<typeof seedDemo>>;
let token = '';

beforeAll(async () => {
  s = await startTestServer();
  demo = await seedDemo(s);
  const res = await s.fetch('/v1/tokens', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ scope: 'read', sessions: 'nightly_*' }),
  });
  token = ((await res.json()) as { token: string }).token;
  b = await launchBrowser();
});
afterAll(async () => {
  await b?.close();
  await s?.close();
});

const ready = () => b.page.waitForSelector('#main:not([aria-busy])');

describe('browse page with a token limited to nightly_*', () => {
  it('lists only the sessions the token may read', async () => {
    await signIn(b.page, s.url, token);
    const rows = b.page.locator('#sessions tbody tr');
    const ids: (string | null)[] = [];
    for (let i = 0; i < (await rows.count()); i++)
      ids.push(await rows.nth(i).getAttribute('data-session'));
    expect(ids.sort()).toEqual(['nightly_1', 'nightly_2', 'nightly_3', 'nightly_4']);
  });

  it('shows another session, and an artifact of it, as not found', async () => {
    for (const path of ['/ui/sessions/run_42', `/ui/artifacts/${demo.md.id}`]) {
      await b.page.goto(s.url + path);
      await ready();
      expect(await b.page.textContent('.error-panel'), path).toContain('Not found');
      expect(await b.page.content()).not.toContain('summary.md');
    }
    await b.page.goto(`${s.url}/ui/sessions/nightly_2`);
    await ready();
    expect(await b.page.textContent('h1')).toBe('nightly_2');
  });
});
