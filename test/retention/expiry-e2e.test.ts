import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CairnEvent } from '../../src/core/events.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

// Real clock, real server, real sweeper: TTLs of one or two seconds really expire.
let s: TestServer;
const events: CairnEvent[] = [];
beforeAll(async () => {
  s = await startTestServer({ sweepIntervalMs: 250 });
  s.app.events.subscribe((e) => events.push(e));
});
afterAll(async () => s.close());

const sha = (body: string) => createHash('sha256').update(body).digest('hex');
/** Whether the blob store still holds these bytes (through its interface: small blobs may not be files). */
const stored = (body: string) => s.app.blobs.has(sha(body));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const json = (body: unknown) => ({
  body: JSON.stringify(body),
  headers: { 'Content-Type': 'application/json' },
});
async function put(path: string, body: string): Promise<{ id: string; expires_at: string }> {
  const res = await s.fetch(path, { method: 'PUT', body });
  expect(res.status).toBe(201);
  return (await res.json()) as { id: string; expires_at: string };
}
const status = async (path: string) => {
  const res = await s.fetch(path);
  await res.body?.cancel();
  return res.status;
};
const ids = async (path: string) =>
  ((await (await s.fetch(path)).json()) as { items: { id: string }[] }).items.map((i) => i.id);

/** Waits (polling, bounded) until `fn` is true; the sweeper runs every 250 ms. */
async function until(fn: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await sleep(50);
  }
}

describe('artifact TTL (?ttl=1s), end to end', () => {
  it('is readable before, and gone from every read the moment it expires', async () => {
    const kept = await put('/v1/sessions/e1/artifacts/kept.txt', 'kept bytes');
    const a = await put('/v1/sessions/e1/artifacts/short.txt?ttl=1s', 'short-lived bytes');
    expect(Date.parse(a.expires_at) - Date.now()).toBeLessThanOrEqual(1000);
    expect(await status('/v1/sessions/e1/artifacts/short.txt')).toBe(200);
    await until(() => Date.now() > Date.parse(a.expires_at));
    // Whether or not the sweeper has run yet, every read agrees.
    expect(await status('/v1/sessions/e1/artifacts/short.txt')).toBe(404);
    expect(await status(`/v1/artifacts/${a.id}`)).toBe(404);
    expect(await status(`/v1/artifacts/${a.id}/content`)).toBe(404);
    expect(await ids('/v1/artifacts?session=e1')).toEqual([kept.id]);
    const session = (await (await s.fetch('/v1/sessions/e1')).json()) as {
      artifacts: { id: string }[];
    };
    expect(session.artifacts.map((x) => x.id)).toEqual([kept.id]);
    const manifest = (await (await s.fetch('/v1/sessions/e1/manifest')).json()) as {
      artifacts: { name: string }[];
    };
    expect(manifest.artifacts.map((x) => x.name)).toEqual(['kept.txt']);
    // The sweeper then removes the row and the bytes, and nothing else.
    await until(async () => !(await stored('short-lived bytes')));
    expect(await stored('kept bytes')).toBe(true);
    expect(await s.app.catalog.blobRefs(sha('short-lived bytes'))).toBe(0);
    expect(events.some((e) => e.type === 'artifact.deleted' && e.session === 'e1')).toBe(true);
  });
});

describe('session TTL, end to end', () => {
  it('set at creation: the session and its artifacts vanish, session.expired is published', async () => {
    const res = await s.fetch('/v1/sessions', { method: 'POST', ...json({ id: 'e2', ttl: '1s' }) });
    expect(res.status).toBe(201);
    await put('/v1/sessions/e2/artifacts/a.txt', 'session-ttl bytes');
    expect(await ids('/v1/sessions?q=e2')).toEqual(['e2']);
    await sleep(1100);
    expect(await status('/v1/sessions/e2')).toBe(404);
    expect(await status('/v1/sessions/e2/artifacts/a.txt')).toBe(404);
    expect(await ids('/v1/sessions?q=e2')).toEqual([]);
    expect(await ids('/v1/artifacts?session=e2')).toEqual([]);
    await until(() => events.some((e) => e.type === 'session.expired' && e.session === 'e2'));
    // Bytes go right after the rows, in the same sweep.
    await until(async () => !(await stored('session-ttl bytes')));
  });

  it('set later with PATCH while open, then the id can be pushed into afresh', async () => {
    await put('/v1/sessions/e3/artifacts/a.txt', 'patched ttl');
    const patched = await s.fetch('/v1/sessions/e3', { method: 'PATCH', ...json({ ttl: '1s' }) });
    expect(patched.status).toBe(200);
    expect(((await patched.json()) as { expires_at: string | null }).expires_at).not.toBeNull();
    await sleep(1100);
    expect(await status('/v1/sessions/e3')).toBe(404);
    // A push into the expired id starts a new session, even before the sweeper ran.
    const again = await put('/v1/sessions/e3/artifacts/b.txt', 'new life');
    const fresh = (await (await s.fetch('/v1/sessions/e3')).json()) as {
      expires_at: string | null;
      artifacts: { id: string }[];
    };
    expect(fresh.expires_at).toBeNull();
    expect(fresh.artifacts.map((x) => x.id)).toEqual([again.id]);
  });

  it('a sealed session keeps its TTL and expires whole, never partly', async () => {
    await s.fetch('/v1/sessions', { method: 'POST', ...json({ id: 'e4', ttl: '2s' }) });
    await put('/v1/sessions/e4/artifacts/short.txt?ttl=1s', 'sealed short');
    await put('/v1/sessions/e4/artifacts/long.txt', 'sealed long');
    const sealed = (await (await s.fetch('/v1/sessions/e4/seal', { method: 'POST' })).json()) as {
      expires_at: string;
    };
    expect(sealed.expires_at).not.toBeNull();
    const ttl = await s.fetch('/v1/sessions/e4', { method: 'PATCH', ...json({ ttl: '1d' }) });
    expect(ttl.status).toBe(409);
    await sleep(1200);
    // Past short.txt's own TTL: still there, because the sealed session lives on whole.
    expect(await status('/v1/sessions/e4/artifacts/short.txt')).toBe(200);
    expect(await status('/v1/sessions/e4/artifacts/long.txt')).toBe(200);
    await until(() => Date.now() > Date.parse(sealed.expires_at));
    expect(await status('/v1/sessions/e4')).toBe(404);
    expect(await status('/v1/sessions/e4/artifacts/short.txt')).toBe(404);
    expect(await status('/v1/sessions/e4/artifacts/long.txt')).toBe(404);
    await until(() => events.some((e) => e.type === 'session.expired' && e.session === 'e4'));
    // Bytes go right after the rows, in the same sweep.
    await until(async () => !(await stored('sealed long')));
  });

  it('a pinned session never expires; unpinned, what is past its TTL vanishes at once', async () => {
    await s.fetch('/v1/sessions', { method: 'POST', ...json({ id: 'e5', ttl: '1s' }) });
    await put('/v1/sessions/e5/artifacts/a.txt?ttl=1s', 'pinned bytes');
    const pinned = await s.fetch('/v1/sessions/e5/pin', { method: 'PUT' });
    expect(((await pinned.json()) as { pinned: boolean }).pinned).toBe(true);
    await sleep(1500); // several sweeps run meanwhile
    expect(await status('/v1/sessions/e5/artifacts/a.txt')).toBe(200);
    expect(await stored('pinned bytes')).toBe(true);
    const unpinned = await s.fetch('/v1/sessions/e5/pin', { method: 'DELETE' });
    expect(unpinned.status).toBe(200);
    expect(await status('/v1/sessions/e5')).toBe(404);
    await until(async () => !(await stored('pinned bytes')));
  });
});

describe('server default TTL', () => {
  it('--default-ttl applies to artifacts pushed without one', async () => {
    const d = await startTestServer({ defaultTtlMs: 1000, sweepIntervalMs: 250 });
    try {
      const res = await d.fetch('/v1/sessions/dt/artifacts/a.txt', { method: 'PUT', body: 'x' });
      const a = (await res.json()) as { expires_at: string | null };
      expect(a.expires_at).not.toBeNull();
      await sleep(1100);
      const gone = await d.fetch('/v1/sessions/dt/artifacts/a.txt');
      expect(gone.status).toBe(404);
    } finally {
      await d.close();
    }
  });
});
