import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CairnClient } from '../../src/client/cairn-client.js';
import { streamEvents, type StreamedEvent } from '../../src/client/pipeline-client.js';
import { freshPgDatabase } from '../helpers/engines/pg.js';
import { startTestServer, tempDir, type TestServer } from '../helpers/server.js';

/**
 * Two real servers (two apps, each with its own data dir, pool, event bus and doorbell) over
 * ONE PostgreSQL database and ONE blob directory, as two nodes behind a load balancer: what
 * one writes reaches the other's waiters and SSE streams.
 */
let a: TestServer;
let b: TestServer;

beforeAll(async () => {
  const catalogUrl = await freshPgDatabase({ keep: true });
  const blobsUrl = `file:${tempDir()}`;
  a = await startTestServer({ catalogUrl, blobsUrl });
  b = await startTestServer({ catalogUrl, blobsUrl });
});
afterAll(async () => {
  await a?.close();
  await b?.close();
});

const push = (s: TestServer, sid: string, name: string) =>
  s.fetch(`/v1/sessions/${sid}/artifacts/${name}`, { method: 'PUT', body: name });

/** Resolves once `cond` holds, checking every few ms (bounded by the test timeout). */
async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 5));
}

/** Reads `n` events of an SSE stream from `s` after `lastEventId`, then closes it. */
async function read(s: TestServer, n: number, lastEventId?: string): Promise<StreamedEvent[]> {
  const client = new CairnClient({ url: s.url, token: s.token });
  const out: StreamedEvent[] = [];
  const stop = new AbortController();
  for await (const m of streamEvents(client, { lastEventId, signal: stop.signal })) {
    expect(m.kind).toBe('event');
    if (m.kind === 'event') out.push(m.event);
    if (out.length === n) break;
  }
  stop.abort();
  return out;
}

describe('events across two servers on one PostgreSQL database', () => {
  it('shares one admin token (claimed once in the catalog)', () => {
    expect(b.token).toBe(a.token);
  });

  it('a waiter on one server is woken by a seal on the other within 1 s', async () => {
    for (let round = 0; round < 5; round++) {
      const sid = `w${round}`;
      expect((await push(b, sid, 'a.txt')).status).toBe(201);
      // The wait gives up after 1 s (and then reports the session as it finds it): the seal's
      // event must reach server A first, so the waiter was woken by it, within that second.
      const order: string[] = [];
      const off = a.app.events.subscribe((ev) => {
        if (ev.session === sid && ev.type === 'session.sealed') order.push('event');
      });
      const waiting = a.fetch(`/v1/sessions/${sid}/wait?until=sealed&timeout=1s`);
      await until(() => a.app.metrics.value('cairn_open_waiters') === 1);
      expect((await b.fetch(`/v1/sessions/${sid}/seal`, { method: 'POST' })).status).toBe(200);
      const body = (await (await waiting).json()) as { sealed: boolean; timed_out: boolean };
      order.push('answer');
      off();
      expect(order).toEqual(['event', 'answer']);
      expect(body).toMatchObject({ sealed: true, timed_out: false });
    }
  });

  it('an SSE stream resumed on the other server with Last-Event-ID misses nothing and repeats nothing', async () => {
    const start = await a.app.events.tail();
    const created: string[] = [];
    const pushAll = async (from: number, to: number) => {
      await Promise.all(
        Array.from({ length: to - from }, async (_, k) => {
          const i = from + k;
          const res = await push(i % 2 ? a : b, 'sse', `f${i}.txt`);
          expect(res.status).toBe(201);
          created.push(((await res.json()) as { id: string }).id);
        }),
      );
    };
    // The first 20 pushes from both servers at once, read on server A...
    await pushAll(0, 20);
    const first = await read(a, 12, String(start));
    // ...the stream dropped after 12, more pushes from both, resumed on server B.
    await pushAll(20, 40);
    const rest = await read(b, 28, String(first.at(-1)!.id));
    const all = [...first, ...rest];
    const ids = all.map((e) => e.id);
    expect(ids.every((id, k) => k === 0 || id > ids[k - 1])).toBe(true);
    const got = all.map((e) => (e.data as { id: string }).id);
    expect(new Set(got).size).toBe(got.length);
    expect([...got].sort()).toEqual([...created].sort());
  });
});
