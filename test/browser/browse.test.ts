import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ArtifactRecord } from '../../src/core/types.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { launchBrowser, signIn, type TestBrowser } from './browser.js';
import { log, push, seedDemo } from './seed.js';

let s: TestServer;
let b: TestBrowser;
let demo: Awaited<ReturnType<typeof seedDemo>>;
const requested: string[] = [];

beforeAll(async () => {
  s = await startTestServer();
  demo = await seedDemo(s);
  b = await launchBrowser();
  b.context.on('request', (r) => requested.push(r.url()));
});
afterAll(async () => {
  await b?.close();
  await s?.close();
});

const page = () => b.page;
const ready = () => page().waitForSelector('#main:not([aria-busy])');
const count = (sel: string) => page().locator(sel).count();
const texts = (sel: string) => page().locator(sel).allTextContents();
const attrs = async (sel: string, name: string) => {
  const all = page().locator(sel);
  const out: (string | null)[] = [];
  for (let i = 0; i < (await all.count()); i++) out.push(await all.nth(i).getAttribute(name));
  return out;
};
const open = async (path: string) => {
  await page().goto(s.url + path);
  await ready();
};

describe('sign in', () => {
  it('asks for a token, refuses a wrong one, keeps a good one for the tab only', async () => {
    await page().goto(`${s.url}/`);
    await page().fill('#token', 'cairn_wrong_token');
    await page().click('button[type=submit]');
    await expect.poll(() => page().textContent('.form-error')).toContain('refused this token');
    expect(await page().$('#sessions')).toBeNull();

    await signIn(page(), s.url, s.token);
    expect(page().url()).toBe(`${s.url}/ui/sessions`);
    expect(await page().evaluate("sessionStorage.getItem('cairn.token')")).toBe(s.token);
    // Reload: still signed in (same tab).
    await page().reload();
    await ready();
    expect(await page().$('#sessions')).not.toBeNull();
  });

  it('never puts the token in a URL', () => {
    expect(requested.length).toBeGreaterThan(3);
    expect(requested.filter((u) => u.includes(s.token))).toEqual([]);
  });

  it('signs out and forgets the token', async () => {
    await page().click('#sign-out');
    await page().waitForSelector('#token');
    expect(await page().evaluate("sessionStorage.getItem('cairn.token')")).toBeNull();
    await signIn(page(), s.url, s.token);
  });
});

describe('sessions list', () => {
  const ids = () => attrs('#sessions tbody tr', 'data-session');

  it('lists sessions newest first with state, counts and metadata', async () => {
    await open('/ui/sessions');
    expect(await ids()).toEqual(['nightly_4', 'nightly_3', 'nightly_2', 'nightly_1', 'run_42']);
    const run = await page().textContent('tr[data-session="run_42"]');
    expect(run).toContain('open');
    expect(run).toContain('7'); // artifacts
    expect(run).toContain('pipeline');
    expect(await page().textContent('tr[data-session="nightly_1"]')).toContain('sealed');
  });

  it('filters by id text, metadata and state', async () => {
    await page().fill('#f-q', 'night');
    await page().click('#f-apply');
    await ready();
    expect(await ids()).toEqual(['nightly_4', 'nightly_3', 'nightly_2', 'nightly_1']);
    expect(page().url()).toContain('q=night');

    await page().fill('#f-meta', 'pipeline=billing');
    await page().click('#f-apply');
    await ready();
    expect(await ids()).toEqual(['nightly_3', 'nightly_1']);

    await page().selectOption('#f-state', 'sealed');
    await page().click('#f-apply');
    await ready();
    expect(await ids()).toEqual(['nightly_1']);

    await page().fill('#f-q', 'nothing-like-this');
    await page().click('#f-apply');
    await ready();
    expect(await page().textContent('.empty')).toContain('No session matches');
  });

  it('pages through many sessions with a cursor', async () => {
    for (let i = 0; i < 55; i++) await push(s, `bulk_${String(i).padStart(2, '0')}`, 'a.txt', 'x');
    await open('/ui/sessions?q=bulk_');
    expect((await ids()).length).toBe(50);
    expect((await ids())[0]).toBe('bulk_54');
    await page().click('text=Older ›');
    await ready();
    expect(await ids()).toEqual(['bulk_04', 'bulk_03', 'bulk_02', 'bulk_01', 'bulk_00']);
    expect(await page().$('text=Older ›')).toBeNull();
    await page().goBack();
    await ready();
    expect((await ids()).length).toBe(50);
  });
});

describe('session view', () => {
  it('opens a session from the list and shows its artifacts, latest versions first', async () => {
    await open('/ui/sessions?q=run_42');
    await page().click('a:text("run_42")');
    await page().waitForSelector('#artifacts');
    expect(page().url()).toBe(`${s.url}/ui/sessions/run_42`);
    const names = await texts('#artifacts tbody td.name');
    expect(names).toEqual([
      'charts/accuracy.png',
      'eval/result.json',
      'eval/scores.csv',
      'inputs/invoices.csv',
      'logs/agent.log',
      'reports/summary.md',
    ]);
    expect(await page().textContent(`tr[data-artifact="${demo.log2.id}"]`)).toContain('v2/2');
    expect(await page().textContent(`tr[data-artifact="${demo.md.id}"]`)).toContain(
      'text/markdown',
    );
    await page().check('#all-versions');
    expect(await page().$(`tr[data-artifact="${demo.log1.id}"]`)).not.toBeNull();
    await page().fill('#name-filter', 'eval/');
    expect(await count('#artifacts tbody tr')).toBe(2);
  });

  it('exports the session as a tar download', async () => {
    await open('/ui/sessions/run_42');
    const [download] = await Promise.all([
      page().waitForEvent('download'),
      page().click('#export'),
    ]);
    expect(download.suggestedFilename()).toBe('run_42.tar');
    const tar = readFileSync((await download.path()) as string);
    expect(tar.subarray(257, 262).toString()).toBe('ustar');
    expect(tar.includes(Buffer.from('reports/summary.md'))).toBe(true);
  });

  it('shares the whole session as a tar link that needs no token', async () => {
    await open('/ui/sessions/run_42');
    await page().click('#share-session');
    await page().selectOption('#share-ttl', '1h');
    await page().click('#share-create');
    await page().waitForSelector('#share-url');
    const url = await page().inputValue('#share-url');
    await page().click('#dlg-close');
    const res = await fetch(url);
    expect(res.status).toBe(200);
    const tar = Buffer.from(await res.arrayBuffer());
    expect(tar.subarray(257, 262).toString()).toBe('ustar');
  });

  it('seals only after confirmation, then shows the verified digest', async () => {
    await push(s, 'to_seal', 'a.txt', 'alpha');
    await open('/ui/sessions/to_seal');
    await page().click('#seal');
    await page().waitForSelector('dialog[open]');
    expect(await page().textContent('dialog[open]')).toContain('one-way');
    await page().click('#dlg-cancel');
    expect(
      ((await (await s.fetch('/v1/sessions/to_seal')).json()) as { sealed: boolean }).sealed,
    ).toBe(false);

    await page().click('#seal');
    await page().click('#dlg-confirm');
    await page().waitForSelector('.banner-sealed');
    const rec = (await (await s.fetch('/v1/sessions/to_seal')).json()) as {
      sealed: boolean;
      digest: string;
    };
    expect(rec.sealed).toBe(true);
    expect(await page().textContent('#digest')).toBe(rec.digest);
    await expect
      .poll(() => page().textContent('#seal-status'))
      .toMatch(/✓ digest matches manifest · ✓ signed by k_/);
    expect(await page().$('#seal')).toBeNull();
  });
});

describe('artifact previews', () => {
  const view = (a: ArtifactRecord) => open(`/ui/artifacts/${a.id}`);

  it('renders Markdown safely with a source tab', async () => {
    await view(demo.md);
    await page().waitForSelector('#markdown h1');
    expect(await page().textContent('#markdown h1')).toBe('Q3 billing run');
    expect(await page().textContent('#markdown strong')).toBe('up 12%');
    expect(await texts('#markdown table td')).toContain('eu-west');
    expect(await page().getAttribute('#markdown a[href^="https://example.com"]', 'rel')).toContain(
      'noopener',
    );
    expect(
      await Promise.all(
        [0, 1].map((n) => page().locator('#markdown li.task input').nth(n).isChecked()),
      ),
    ).toEqual([true, false]);
    await page().click('#tab-source');
    expect(await page().textContent('.code tr:first-child td.src')).toBe('# Q3 billing run');
  });

  it('shows CSV as a table', async () => {
    await view(demo.csv);
    await page().waitForSelector('#csv-table');
    const head = await texts('#csv-table thead th');
    expect(head).toEqual(['#', 'model', 'dataset', 'accuracy', 'latency_ms', 'notes']);
    expect(await count('#csv-table tbody tr')).toBe(5);
    expect(await page().textContent('#csv-table tbody tr:first-child')).toContain(
      'baseline, tuned prompt',
    );
  });

  it('shows JSON as a collapsible tree', async () => {
    await view(demo.json);
    await page().waitForSelector('#json-tree');
    const text = await page().textContent('#json-tree');
    expect(text).toContain('"metrics": ');
    expect(text).toContain('0.942');
    expect(text).toContain('"failures": ');
    // Deeper levels are built when opened.
    expect(text).not.toContain('"inv_2210"');
    await page().locator('#json-tree summary', { hasText: /^1: / }).click();
    // The toggle event that builds the children fires asynchronously.
    await expect.poll(() => page().textContent('#json-tree')).toContain('"inv_2210"');
    const params = page().locator('#json-tree details', { hasText: '"params"' }).first();
    expect(await params.getAttribute('open')).not.toBeNull();
    await params.locator('> summary').click();
    expect(await params.getAttribute('open')).toBeNull();
  });

  it('shows images inline from a blob: URL', async () => {
    await view(demo.image);
    await page().waitForSelector('#image-preview');
    await expect
      .poll(() => page().evaluate("document.querySelector('#image-preview').naturalWidth"))
      .toBe(240);
    expect(await page().getAttribute('#image-preview', 'src')).toMatch(/^blob:/);
  });

  it('shows text with line numbers and loads more of a large log', async () => {
    const big = await push(s, 'run_big', 'big.log', log(8_000));
    await view(big);
    await page().waitForSelector('#load-more');
    const first = await count('#text-lines tr');
    expect(first).toBeGreaterThan(1000);
    expect(first).toBeLessThan(8_000);
    expect(await page().getAttribute('#text-lines tr:nth-child(3) td.ln', 'data-ln')).toBe('3');
    while (await page().$('#load-more')) {
      await page().click('#load-more');
      // Polled from the test, not waitForFunction: its in-page poller evaluates a string,
      // which the page's CSP (no unsafe-eval) and Trusted Types refuse.
      await expect
        .poll(() => page().evaluate("document.querySelector('.more')?.textContent ?? ''"))
        .not.toContain('Loading');
    }
    expect(await count('#text-lines tr')).toBe(8_000);
    expect(await page().textContent('#text-lines tr:last-child td.src')).toContain('batch 7999');
  });

  it('switches versions and diffs two versions of a name', async () => {
    await view(demo.log2);
    expect(await page().inputValue('#version')).toBe(demo.log2.id);
    await page().selectOption('#version', demo.log1.id);
    await ready();
    expect(page().url()).toContain(demo.log1.id);
    await page().selectOption('#compare', demo.log2.id);
    await page().waitForSelector('#diff');
    expect(await page().textContent('.diff-stat')).toContain('+1 −1');
    expect(await page().textContent('#diff tr.d-del td.src')).toContain(
      'processed invoice batch 7',
    );
    expect(await page().textContent('#diff tr.d-add td.src')).toContain(
      'WARN retrying invoice batch 7',
    );
    expect(await page().textContent('#diff')).toContain('unchanged lines');
  });

  it('shows metadata, sha256 and lineage both ways', async () => {
    await view(demo.csv);
    expect(await page().textContent('#sha256')).toBe(demo.csv.sha256);
    await page().waitForSelector('#lineage-panel ul');
    const panel = await page().textContent('#lineage-panel');
    expect(panel).toContain('inputs/invoices.csv');
    expect(panel).toContain('eval/result.json');
    await page().locator('#lineage-panel a', { hasText: 'eval/result.json' }).click();
    await page().waitForSelector('#json-tree');
    expect(page().url()).toBe(`${s.url}/ui/artifacts/${demo.json.id}`);
  });

  it('shares a link that opens in a fresh browser without a token', async () => {
    await view(demo.md);
    await page().click('#share');
    await page().click('#share-create');
    await page().waitForSelector('#share-url');
    const url = await page().inputValue('#share-url');
    expect(url).toMatch(new RegExp(`^${s.url}/s/`));
    expect(url).not.toContain(s.token);
    await page().click('#dlg-close');

    const fresh = await launchBrowser();
    try {
      const auth: (string | undefined)[] = [];
      fresh.context.on('request', (r) => auth.push(r.headers().authorization));
      const res = await fresh.page.goto(url);
      expect(res?.status()).toBe(200);
      expect(await fresh.page.textContent('body')).toContain('# Q3 billing run');
      expect(auth).toEqual([undefined]);
    } finally {
      await fresh.close();
    }
  });

  it('raised no script error and no dialog along the way', () => {
    expect(b.dialogs).toEqual([]);
    // A wrong token answered 401 on purpose; nothing else may have failed.
    expect(b.errors.filter((e) => !e.includes('401'))).toEqual([]);
  });
});
