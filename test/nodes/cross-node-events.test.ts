import { describe, expect, it } from 'vitest';
import { CairnClient } from '../../src/client/cairn-client.js';
import { streamEvents, type EventMessage } from '../../src/client/pipeline-client.js';
import { startCluster, type ClusterNode } from '../helpers/cluster.js';

// The event stream lives in the catalog: a waiter on one node wakes on a seal made on
// another, and an SSE stream broken off on one node resumes on another, missing nothing.

/** A gauge from a node's /metrics. */
async function gauge(n: ClusterNode, name: string): Promise<number> {
  const text = await (await n.fetch('/metrics')).text();
  return Number(new RegExp(`^${name} (\\d+)`, 'm').exec(text)?.[1]);
}

async function until(cond: () => Promise<boolean>): Promise<void> {
  while (!(await cond())) await new Promise((r) => setTimeout(r, 20));
}

async function take(it: AsyncGenerator<EventMessage>, n: number): Promise<EventMessage[]> {
  const got: EventMessage[] = [];
  for await (const m of it) {
    got.push(m);
    if (got.length >= n) break;
  }
  return got;
}

const label = (m: EventMessage) =>
  m.kind === 'event' ? `${m.event.type}:${(m.event.data as { name?: string }).name ?? ''}` : 'gap';

describe('events across nodes', () => {
  it('a waiter on A wakes on a seal made on B; an SSE stream from A resumes on B', async () => {
    const c = await startCluster(2);
    try {
      const [a, b] = c.nodes;
      const put = (n: ClusterNode, sid: string, name: string) =>
        n.fetch(`/v1/sessions/${sid}/artifacts/${name}`, { method: 'PUT', body: name });

      const waiting = a.fetch('/v1/sessions/w/wait?until=sealed&timeout=60s');
      await until(async () => (await gauge(a, 'cairn_open_waiters')) === 1);
      expect((await put(b, 'w', 'a.txt')).status).toBe(201);
      const sealed = (await (await b.fetch('/v1/sessions/w/seal', { method: 'POST' })).json()) as {
        digest: string;
      };
      const res = await waiting;
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ sealed: true, digest: sealed.digest });

      let last: string | undefined;
      const onA = new CairnClient({ url: a.url, token: c.token });
      const reading = take(streamEvents(onA, { session: 'sse', onId: (id) => (last = id) }), 2);
      await until(async () => (await gauge(a, 'cairn_open_event_streams')) === 1);
      await put(b, 'sse', 'one.txt');
      await put(a, 'sse', 'two.txt');
      const firstTwo = await reading;
      expect(firstTwo.map(label)).toEqual(['artifact.created:one.txt', 'artifact.created:two.txt']);
      // While disconnected, more happens on both nodes; the stream resumes on B.
      await put(a, 'sse', 'three.txt');
      await b.fetch('/v1/sessions/sse/seal', { method: 'POST' });
      const onB = new CairnClient({ url: b.url, token: c.token });
      const resumed = await take(streamEvents(onB, { session: 'sse', lastEventId: last }), 2);
      expect(resumed.map(label)).toEqual(['artifact.created:three.txt', 'session.sealed:']);
      const ids = [...firstTwo, ...resumed].map((m) => (m.kind === 'event' ? m.event.id : 0));
      expect([...ids].sort((x, y) => x - y)).toEqual(ids);
      expect(new Set(ids).size).toBe(4);
    } finally {
      await c.close();
    }
  });
});
