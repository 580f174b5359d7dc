import { rmSync } from 'node:fs';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { tempDir } from '../helpers/server.js';

/** Debian's Chromium, headless, no network side traffic. */
export const CHROMIUM = {
  executablePath: '/usr/bin/chromium',
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--no-first-run',
  ],
};

/** A browser context over a fresh user-data-dir, removed by `close()`. */
export interface TestBrowser {
  context: BrowserContext;
  page: Page;
  /** Messages of every JavaScript dialog (alert/confirm/prompt) any page opened. */
  dialogs: string[];
  /** Console errors and uncaught page errors. */
  errors: string[];
  close(): Promise<void>;
}

/** Launches Chromium with its own temporary profile. */
export async function launchBrowser(
  opts: { colorScheme?: 'light' | 'dark'; width?: number; height?: number } = {},
): Promise<TestBrowser> {
  const dir = tempDir('cairn-chromium-');
  const context = await chromium.launchPersistentContext(dir, {
    ...CHROMIUM,
    headless: true,
    viewport: { width: opts.width ?? 1280, height: opts.height ?? 800 },
    colorScheme: opts.colorScheme ?? 'light',
  });
  const dialogs: string[] = [];
  const errors: string[] = [];
  const watch = (p: Page) => {
    p.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    p.on('pageerror', (e) => errors.push(e.message));
    p.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
  };
  context.on('page', watch);
  const page = context.pages()[0] ?? (await context.newPage());
  watch(page);
  return {
    context,
    page,
    dialogs,
    errors,
    close: async () => {
      await context.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Opens the page and signs in with `token`; waits for the sessions list. */
export async function signIn(
  page: Page,
  baseUrl: string,
  token: string,
  path = '/',
): Promise<void> {
  await page.goto(baseUrl + path);
  await page.fill('#token', token);
  await page.click('button[type=submit]');
  await page.waitForSelector('#main:not([aria-busy])');
}
