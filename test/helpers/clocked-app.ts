import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import { Readable } from 'node:stream';
import { afterEach } from 'vitest';
import { createApp, type App } from '../../src/app.js';
import type { Config } from '../../src/config.js';
import type { PushInput } from '../../src/core/artifact-service.js';
import { CairnError } from '../../src/lib/errors.js';
import { tempDir } from './server.js';

/** The time every clocked app starts at. */
export const T0 = Date.parse('2026-03-01T00:00:00Z');
/** One hour in ms. */
export const H = 3_600_000;

const open: { app: App; dir: string }[] = [];
afterEach(async () => {
  for (const o of open.splice(0)) {
    await o.app.close();
    rmSync(o.dir, { recursive: true, force: true });
  }
});

/**
 * A real app (SQLite file and blob files in a temp dir, closed after each test) on a clock the
 * test moves by setting `clock.now`; no server, so no background sweeper: the rules exactly.
 */
export async function makeClockedApp(config: Partial<Config> = {}) {
  const dir = tempDir();
  const clock = { now: T0 };
  const app = await createApp({ dataDir: dir, ...config }, { clock: () => clock.now });
  open.push({ app, dir });
  const push = (input: PushInput, body: string) =>
    app.artifacts.push(input, Readable.from([Buffer.from(body)]));
  /** Whether the blob store holds these bytes (asked through its interface). */
  const blobExists = (body: string) =>
    app.blobs.has(createHash('sha256').update(body).digest('hex'));
  return { app, clock, push, blobExists };
}

/** 'ok', or the code of the CairnError the promise rejects with. */
export const code = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (e: unknown) => (e as CairnError).code,
  );
