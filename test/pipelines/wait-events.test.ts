import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CairnClient } from '../../src/client/cairn-client.js';
import { streamEvents, type EventMessage } from '../../src/client/pipeline-client.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let s: TestServer;
let client: CairnClient;

beforeAll(async () => {
  s = await startTestServer();
  client = new CairnClient({ url: s.url, token: s.token });
});
afterAll(async () => {
  await s.close();
});

const push = (sid: string, name: string, body = 'x') =>
  s.fetch(`/v1/sessions/${sid}/artifacts/${name}`, { method: 'PUT', body });
const seal = (sid: string) => s.fetch(`/v1/sessions/${sid}/seal`, { method: 'POST' });
const gauge = (name: string) => s.app.metrics.value(name);

/** Resolves once `cond` holds, checking on each event-loop turn (bounded by the test timeout). */
async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 5));
}

describe('GET /v1/sessions/{sid}/wait', () => {
  it('a waiter started before the session exists answers when it is created and sealed', async () => {
    const waiting = s.fetch('/v1/sessions/not-yet/wait?until=sealed&timeout=60s');
    await until(() => gauge('cairn_open_waiters') === 1);
    expect((await push('not-yet', 'a.txt')).status).toBe(201);
    expect(gauge('cairn_open_waiters')).toBe(1);
    const sealed = (await (await seal('not-yet')).json()) as { digest: string };
    const res = await waiting;
    expect(res.status).toBe(200);
    const body = (await res.json()) as { sealed: boolean; timed_out: boolean; digest: string };
    expect(body).toMatchObject({ sealed: true, timed_out: false, digest: sealed.digest });
    expect(gauge('cairn_open_waiters')).toBe(0);
  });

  it('answers at once for a session already sealed', async () => {
    await push('already', 'a.txt');
    await seal('already');
    const body = (await (await s.fetch('/v1/sessions/already/wait')).json()) as {
      sealed: boolean;
    };
    expect(body.sealed).toBe(true);
  });

  it('answers 200 with sealed:false at the timeout, for open and unknown sessions', async () => {
    await push('stays-open', 'a.txt');
    const open = (await (await s.fetch('/v1/sessions/stays-open/wait?timeout=200ms')).json()) as {
      sealed: boolean;
      timed_out: boolean;
      artifact_count: number;
    };
    expect(open).toMatchObject({ sealed: false, timed_out: true, artifact_count: 1 });
    const none = await s.fetch('/v1/sessions/never/wait?timeout=100ms');
    expect(none.status).toBe(200);
    expect(await none.json()).toMatchObject({ id: 'never', sealed: false, exists: false });
  });

  it('many waiters share the bus and all wake on one seal', async () => {
    const before = s.app.events.subscribers;
    const waits = Array.from({ length: 50 }, () => s.fetch('/v1/sessions/many/wait?timeout=60s'));
    await until(() => gauge('cairn_open_waiters') === 50);
    await push('many', 'a.txt');
    await seal('many');
    const bodies = await Promise.all(waits.map(async (w) => (await w).json()));
    expect(bodies.every((b) => (b as { sealed: boolean }).sealed)).toBe(true);
    expect(s.app.events.subscribers).toBe(before);
  });

  it('releases its listener when the client disconnects', async () => {
    const before = s.app.events.subscribers;
    const req = http.get(`${s.url}/v1/sessions/gone/wait?timeout=60s`, {
      headers: { Authorization: `Bearer ${s.token}` },
    });
    req.on('error', () => undefined);
    await until(() => gauge('cairn_open_waiters') === 1);
    expect(s.app.events.subscribers).toBe(before + 1);
    req.destroy();
    await until(() => gauge('cairn_open_waiters') === 0);
    expect(s.app.events.subscribers).toBe(before);
  });

  it.each([
    ['until=created', 'invalid_query'],
    ['timeout=soon', 'invalid_duration'],
    ['bogus=1', 'invalid_query'],
  ])('refuses %s with a 400', async (q, code) => {
    const res = await s.fetch(`/v1/sessions/x/wait?${q}`);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe(code);
  });

  it.each(['timeout=0', 'timeout=200y', 'timeout=soon'])(
    'a bad %s names the real bound (5m), not the 100 years of other durations',
    async (q) => {
      const res = await s.fetch(`/v1/sessions/x/wait?${q}`);
      expect(res.status).toBe(400);
      const { message } = ((await res.json()) as { error: { message: string } }).error;
      expect(message).toContain('waits longer than 5m are cut to 5m');
      expect(message).not.toContain('100 years');
    },
  );

  it('caps the timeout (a 1h ask is served, shortened, not refused)', async () => {
    const res = s.fetch('/v1/sessions/capped/wait?timeout=1h');
    await until(() => gauge('cairn_open_waiters') === 1);
    await push('capped', 'a');
    await seal('capped');
    expect(((await (await res).json()) as { sealed: boolean }).sealed).toBe(true);
  });
});

/** Reads events from a stream until `n` arrived, then stops (disconnects). */
async function take(it: AsyncGenerator<EventMessage>, n: number): Promise<EventMessage[]> {
  const got: EventMessage[] = [];
  for await (const m of it) {
    got.push(m);
    if (got.length >= n) break;
  }
  return got;
}

describe('GET /v1/events (Server-Sent Events)', () => {
  it('streams a session’s events with ids; a client that disconnects resumes with Last-Event-ID and misses nothing', async () => {
    let last: string | undefined;
    const first = streamEvents(client, { session: 'sse', onId: (id) => (last = id) });
    const reading = take(first, 2);
    await until(() => gauge('cairn_open_event_streams') === 1);
    await push('other', 'ignored.txt');
    await push('sse', 'one.txt');
    await push('sse', 'two.txt');
    const firstTwo = await reading;
    expect(firstTwo.map((m) => m.kind === 'event' && m.event.type)).toEqual([
      'artifact.created',
      'artifact.created',
    ]);
    await until(() => gauge('cairn_open_event_streams') === 0);
    // While disconnected, more happens.
    await push('sse', 'three.txt');
    await seal('sse');
    const resumed = await take(streamEvents(client, { session: 'sse', lastEventId: last }), 2);
    const names = resumed.map((m) =>
      m.kind === 'event'
        ? `${m.event.type}:${(m.event.data as { name?: string }).name ?? ''}`
        : 'gap',
    );
    expect(names).toEqual(['artifact.created:three.txt', 'session.sealed:']);
    const ids = [...firstTwo, ...resumed].map((m) => (m.kind === 'event' ? m.event.id : 0));
    expect([...ids].sort((a, b) => a - b)).toEqual(ids);
  });

  it('sends heartbeats and the raw SSE framing (id, event, data)', async () => {
    const chunks: string[] = [];
    const req = http.get(`${s.url}/v1/events?session=hb&heartbeat=1s`, {
      headers: { Authorization: `Bearer ${s.token}` },
    });
    const res = await new Promise<http.IncomingMessage>((r) => req.on('response', r));
    expect(res.headers['content-type']).toMatch(/^text\/event-stream/);
    res.setEncoding('utf8');
    res.on('data', (c: string) => chunks.push(c));
    await until(() => chunks.join('').includes(': ping'));
    await push('hb', 'x.txt');
    await until(() => chunks.join('').includes('event: artifact.created'));
    expect(chunks.join('')).toMatch(
      /\nid: \d+\nevent: artifact\.created\ndata: \{.*"session":"hb"/,
    );
    req.destroy();
    await until(() => gauge('cairn_open_event_streams') === 0);
  });

  it('says so when a resume id is newer than any this store gave (another store)', async () => {
    const future = String((await s.app.catalog.events.tail()) + 1000);
    const got = await take(streamEvents(client, { session: 'sse', lastEventId: future }), 1);
    expect(got[0]).toEqual({ kind: 'gap', after: Number(future) });
  });

  it('answers HEAD /v1/events with the stream headers at once', async () => {
    const res = await s.fetch('/v1/events', { method: 'HEAD', signal: AbortSignal.timeout(5000) });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
  });

  it('refuses a malformed Last-Event-ID and unknown types', async () => {
    expect((await s.fetch('/v1/events', { headers: { 'Last-Event-ID': 'abc' } })).status).toBe(400);
    expect((await s.fetch('/v1/events?types=nope')).status).toBe(400);
  });

  it('server shutdown ends open streams and waiters instead of hanging', async () => {
    const other = await startTestServer();
    const c2 = new CairnClient({ url: other.url, token: other.token });
    const stream = take(streamEvents(c2, {}), 1000);
    const waiter = other.fetch('/v1/sessions/x/wait?timeout=60s');
    await until(
      () =>
        other.app.metrics.value('cairn_open_event_streams') === 1 &&
        other.app.metrics.value('cairn_open_waiters') === 1,
    );
    await other.close();
    expect(await stream).toEqual([]);
    expect(((await (await waiter).json()) as { sealed: boolean }).sealed).toBe(false);
  });
});
