import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ArtifactRecord } from '../../src/core/types.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { launchBrowser, signIn, type TestBrowser } from './browser.js';
import { push, sessionMeta } from './seed.js';

// Every payload tries both to open a dialog and to leave a mark on the page's window.
const run = (tag: string) => `window.__xss='${tag}';alert('${tag}')`;
const IMG = (tag: string) => `<img src=x id=pwned onerror="${run(tag)}">`;
const SCRIPT = (tag: string) => `<script>${run(tag)}</script>`;

let s: TestServer;
let b: TestBrowser;
const a: Record<string, ArtifactRecord> = {};

beforeAll(async () => {
  s = await startTestServer();
  const sid = 'xss_run';
  a.md = await push(
    s,
    sid,
    `notes/${IMG('name')}.md`,
    [
      '# Title ' + SCRIPT('md-h1'),
      '',
      IMG('md-img'),
      '',
      '<div id="pwned" onclick="x">raw html</div>',
      '',
      `[click me](javascript:${run('md-link')})`,
      '',
      `[data link](data:text/html,${encodeURIComponent(SCRIPT('md-data'))})`,
      '',
      `![image](javascript:${run('md-image')})`,
      '',
      '<a href="javascript:alert(1)">raw anchor</a>',
      '',
      '| a | b |',
      '|---|---|',
      `| ${IMG('md-table')} | <svg onload="${run('md-svg')}"> |`,
      '',
      '```html',
      SCRIPT('md-code'),
      '```',
    ].join('\n'),
    { meta: { note: `"><svg onload="${run('meta')}">`, agent: IMG('meta-agent') } },
  );
  a.html = await push(
    s,
    sid,
    'report.html',
    `<h1 id="pwned">report</h1>${SCRIPT('html')}${IMG('html-img')}<form action="/v1/tokens"><button>go</button></form>`,
    { type: 'text/html' },
  );
  a.svg = await push(
    s,
    sid,
    'chart.svg',
    `<svg xmlns="http://www.w3.org/2000/svg" onload="${run('svg')}"><script>${run('svg-script')}</script><circle cx="20" cy="20" r="10"/></svg>`,
    { type: 'image/svg+xml' },
  );
  a.json = await push(
    s,
    sid,
    'data.json',
    JSON.stringify({ [IMG('json-key')]: SCRIPT('json-value'), list: [IMG('json-item')] }),
  );
  a.csv = await push(s, sid, 'table.csv', `${IMG('csv-head')},b\n"${SCRIPT('csv-cell')}",2\n`);
  a.txt = await push(s, sid, 'log.txt', `</td></tr></table>${SCRIPT('txt')}\n${IMG('txt2')}`);
  a.js = await push(s, sid, 'evil.js', `${run('js')}`, { type: 'text/javascript' });
  await push(s, sid, 'log.txt', `changed ${IMG('diff')}\n${SCRIPT('diff2')}`);
  await sessionMeta(s, sid, { owner: IMG('session-meta'), x: `'"><script>${run('sm')}</script>` });
  b = await launchBrowser();
  await signIn(b.page, s.url, s.token);
});
afterAll(async () => {
  await b?.close();
  await s?.close();
});

/** Opens a page, lets it settle, and checks that nothing from the data became markup or ran. */
async function visit(path: string, settle: string) {
  await b.page.goto(s.url + path);
  await b.page.waitForSelector(settle);
  // Give onerror/onload handlers (if any had been created) time to fire.
  await b.page.waitForLoadState('networkidle');
  const state = (await b.page.evaluate(`(() => ({
    xss: window.__xss ?? null,
    pwned: document.querySelectorAll('#pwned').length,
    scripts: [...document.scripts].map((x) => x.src.replace(location.origin, '')),
    handlers: [...document.querySelectorAll('*')].filter((e) =>
      [...e.attributes].some((at) => at.name.startsWith('on'))).map((e) => e.tagName),
    badLinks: [...document.querySelectorAll('a[href]')].map((x) => x.getAttribute('href'))
      .filter((h) => !/^(\\/|#|https?:|mailto:|blob:)/.test(h)),
    imgs: [...document.querySelectorAll('img')].map((x) => x.getAttribute('src'))
      .filter((src) => !src.startsWith('blob:')),
    frames: [...document.querySelectorAll('iframe')].map((f) => f.getAttribute('sandbox')),
  }))()`)) as {
    xss: string | null;
    pwned: number;
    scripts: string[];
    handlers: string[];
    badLinks: string[];
    imgs: string[];
    frames: (string | null)[];
  };
  expect(state.xss).toBeNull();
  expect(state.pwned).toBe(0);
  expect(state.scripts).toHaveLength(1);
  expect(state.scripts[0]).toMatch(/^\/ui\/assets\/app\.js\?v=/);
  expect(state.handlers).toEqual([]);
  expect(state.badLinks).toEqual([]);
  expect(state.imgs).toEqual([]);
  for (const f of state.frames) expect(f).toBe('');
  expect(b.dialogs).toEqual([]);
  return state;
}

describe('XSS payloads in names, metadata and content stay text', () => {
  it('sessions list (session metadata)', async () => {
    await visit('/ui/sessions', '#sessions');
    expect(await b.page.textContent('#sessions')).toContain('<img src=x id=pwned');
  });

  it('session view (artifact names and metadata)', async () => {
    await visit('/ui/sessions/xss_run', '#artifacts');
    expect(await b.page.textContent('#artifacts')).toContain(`notes/${IMG('name')}.md`);
  });

  it('Markdown: raw HTML shown as text, javascript:/data: links dropped', async () => {
    await visit(`/ui/artifacts/${a.md.id}`, '#markdown');
    const text = await b.page.textContent('#markdown');
    expect(text).toContain('<div id="pwned" onclick="x">raw html</div>');
    expect(text).toContain('click me');
    expect(await b.page.locator('#markdown a').count()).toBe(0);
    expect(await b.page.textContent('h1')).toContain('<img src=x');
    await b.page.click('#tab-source');
    await visit(`/ui/artifacts/${a.md.id}`, '#markdown');
  });

  it('HTML and SVG only in a sandboxed frame without scripts or same-origin', async () => {
    for (const x of [a.html, a.svg]) {
      const state = await visit(`/ui/artifacts/${x.id}`, '#sandbox-frame');
      expect(state.frames).toEqual(['']);
      const frame = b.page.frames().find((f) => f !== b.page.mainFrame());
      expect(frame?.url()).toBe('about:srcdoc');
      await b.page.click('#tab-source');
      await visit(`/ui/artifacts/${x.id}`, '#sandbox-frame');
    }
  });

  it('JSON tree, CSV table, text, script source and diff', async () => {
    await visit(`/ui/artifacts/${a.json.id}`, '#json-tree');
    expect(await b.page.textContent('#json-tree')).toContain('<img src=x id=pwned');
    await visit(`/ui/artifacts/${a.csv.id}`, '#csv-table');
    expect(await b.page.textContent('#csv-table')).toContain('<script>');
    await visit(`/ui/artifacts/${a.txt.id}`, '#text-lines');
    await visit(`/ui/artifacts/${a.js.id}`, '#text-lines');
    const versions = (await (
      await s.fetch(`/v1/artifacts?session=xss_run&name=log.txt`)
    ).json()) as { items: ArtifactRecord[] };
    const [v2, v1] = versions.items;
    await visit(`/ui/artifacts/${v2.id}?diff=${v1.id}`, '#diff');
    expect(await b.page.textContent('#diff')).toContain('<script>');
  });

  it('the page forbids inline script and HTML sinks by policy', async () => {
    // Even if a bug built markup from data, the CSP would stop it: check it is in force.
    const blocked = await b.page.evaluate(`(() => {
      try { document.body.insertAdjacentHTML('beforeend', '<b id="pwned">x</b>'); return 'ran'; }
      catch (e) { return e.name; }
    })()`);
    expect(blocked).toBe('TypeError');
    expect(await b.page.locator('#pwned').count()).toBe(0);
    expect(b.dialogs).toEqual([]);
  });
});
