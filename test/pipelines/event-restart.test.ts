import { afterEach, describe, expect, it } from 'vitest';
import { SqliteCatalog } from '../../src/catalog/sqlite/sqlite-catalog.js';
import { CairnClient } from '../../src/client/cairn-client.js';
import { streamEvents, type EventMessage } from '../../src/client/pipeline-client.js';
import { startTestServer, tempDir, type TestServer } from '../helpers/server.js';

const open: { close: () => Promise<void> }[] = [];
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
});

async function serve(dataDir: string): Promise<TestServer> {
  const s = await startTestServer({ dataDir });
  open.push(s);
  return s;
}

const push = (s: TestServer, sid: string, name: string) =>
  s.fetch(`/v1/sessions/${sid}/artifacts/${name}`, { method: 'PUT', body: name });

/** Reads events from a stream until `n` arrived, then disconnects. */
async function take(it: AsyncGenerator<EventMessage>, n: number): Promise<EventMessage[]> {
  const got: EventMessage[] = [];
  for await (const m of it) {
    got.push(m);
    if (got.length >= n) break;
  }
  return got;
}

/** `type:name` of each message (`gap` for a gap). */
const names = (ms: EventMessage[]) =>
  ms.map((m) =>
    m.kind === 'event'
      ? `${m.event.type}:${(m.event.data as { name?: string }).name ?? ''}`
      : 'gap',
  );
const idsOf = (ms: EventMessage[]) => ms.map((m) => (m.kind === 'event' ? m.event.id : -1));

describe('the event stream across restarts and processes', () => {
  it('an SSE client resuming after a server restart gets exactly what it missed', async () => {
    const dir = tempDir();
    const a = await serve(dir);
    let last = '';
    const ca = new CairnClient({ url: a.url, token: a.token });
    const reading = take(streamEvents(ca, { session: 'r', onId: (id) => (last = id) }), 2);
    await until(() => a.app.metrics.value('cairn_open_event_streams') === 1);
    expect((await push(a, 'r', 'one')).status).toBe(201);
    expect((await push(a, 'r', 'two')).status).toBe(201);
    const before = await reading;
    expect(names(before)).toEqual(['artifact.created:one', 'artifact.created:two']);
    // Missed while disconnected: one push before the restart, one and a seal after it.
    expect((await push(a, 'r', 'three')).status).toBe(201);
    await a.close();
    open.splice(open.indexOf(a), 1);
    const b = await serve(dir);
    expect((await push(b, 'r', 'four')).status).toBe(201);
    expect((await b.fetch('/v1/sessions/r/seal', { method: 'POST' })).status).toBe(200);
    const cb = new CairnClient({ url: b.url, token: b.token });
    const after = await take(streamEvents(cb, { session: 'r', lastEventId: last }), 3);
    expect(names(after)).toEqual([
      'artifact.created:three',
      'artifact.created:four',
      'session.sealed:',
    ]);
    const ids = idsOf([...before, ...after]);
    expect(new Set(ids).size).toBe(5);
    expect([...ids].sort((x, y) => x - y)).toEqual(ids);
    // 0 asks for everything the stream holds: from before the restart too, without a gap.
    const all = await take(streamEvents(cb, { session: 'r', lastEventId: '0' }), 5);
    expect(idsOf(all)).toEqual(ids);
  });

  it('a resume id older than what the stream still holds (trimmed) gets `event: gap` first', async () => {
    const dir = tempDir();
    const a = await serve(dir);
    for (const n of ['a', 'b', 'c', 'd']) await push(a, 'sse', n);
    await a.close();
    open.splice(open.indexOf(a), 1);
    // After a restart, so that no in-memory window still holds the trimmed events.
    const b = await serve(dir);
    await b.app.catalog.events.trim({ before: 0, keep: 2 });
    const ca = new CairnClient({ url: b.url, token: b.token });
    const got = await take(streamEvents(ca, { session: 'sse', lastEventId: '1' }), 3);
    expect(got[0]).toEqual({ kind: 'gap', after: 1 });
    expect(names(got.slice(1))).toEqual(['artifact.created:c', 'artifact.created:d']);
  });

  it('a waiter and a stream are woken by a seal another process writes to the same catalog', async () => {
    const dir = tempDir();
    const s = await serve(dir);
    expect((await push(s, 'x', 'a.txt')).status).toBe(201);
    const waiting = s.fetch('/v1/sessions/x/wait?until=sealed&timeout=60s');
    const c = new CairnClient({ url: s.url, token: s.token });
    const streamed = take(streamEvents(c, { session: 'x' }), 1);
    await until(
      () =>
        s.app.metrics.value('cairn_open_waiters') === 1 &&
        s.app.metrics.value('cairn_open_event_streams') === 1,
    );
    // Another process on the same catalog file (as another node would share a catalog).
    const other = SqliteCatalog.open({ dir, durability: 'full' });
    open.push(other);
    const sealed = await other.sealSession('x', Date.now(), () => ({
      digest: 'd'.repeat(64),
      signature: 'sig',
    }));
    const body = (await (await waiting).json()) as { sealed: boolean; digest: string };
    expect(body).toMatchObject({ sealed: true, timed_out: false, digest: sealed.digest });
    const [ev] = await streamed;
    expect(ev).toMatchObject({ kind: 'event', event: { type: 'session.sealed', session: 'x' } });
    expect(s.app.metrics.value('cairn_sessions_sealed_total')).toBe(1);
  });
});

/** Resolves once `cond` holds, checking every few ms (bounded by the test timeout). */
async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 5));
}
