import { afterEach, describe, expect, it } from 'vitest';
import { SqliteCatalog } from '../../src/catalog/sqlite/sqlite-catalog.js';
import { EventBus, type CairnEvent } from '../../src/core/events.js';
import { art } from '../conformance/fixtures.js';
import { tempDir } from '../helpers/server.js';

const open = (dir: string) => SqliteCatalog.open({ dir, durability: 'process' });
const closers: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

/** A bus over a catalog, closed after the test. */
async function busOver(c: SqliteCatalog, windowSize?: number): Promise<EventBus> {
  const bus = await EventBus.open(c.events, { windowSize });
  closers.push(() => bus.close());
  return bus;
}

/** Resolves once `n` events have been delivered to a new subscriber (no polling). */
function collect(bus: EventBus, n: number): { seen: CairnEvent[]; done: Promise<void> } {
  const seen: CairnEvent[] = [];
  let done!: () => void;
  const p = new Promise<void>((r) => (done = r));
  const off = bus.subscribe((ev) => {
    seen.push(ev);
    if (seen.length === n) done();
  });
  closers.push(off);
  return { seen, done: p };
}

describe('EventBus over the catalog stream', () => {
  it('delivers each committed event once, in order, and only those after its start', async () => {
    const c = open(tempDir());
    closers.push(() => c.close());
    await c.addArtifact(art({ session: 'before' }));
    const bus = await busOver(c, 4);
    const got = collect(bus, 12);
    for (let i = 0; i < 12; i++) await c.addArtifact(art({ session: 's', name: `n${i}` }));
    await got.done;
    expect(got.seen.map((e) => (e.data as { name: string }).name)).toEqual(
      Array.from({ length: 12 }, (_, i) => `n${i}`),
    );
    expect(bus.lastId).toBe(await c.events.tail());
    // The window holds the newest 4; older cursors are answered by the catalog, the same way.
    const first = got.seen[0].id - 1;
    for (const cursor of [first, got.seen[3].id, got.seen[8].id, got.seen[10].id]) {
      const page = await bus.since(cursor, 100);
      expect(page).toEqual({ events: got.seen.filter((e) => e.id > cursor), gap: false });
    }
    expect(await bus.since(bus.lastId, 10)).toEqual({ events: [], gap: false });
    await c.events.trim({ before: 0, keep: 2 });
    expect((await bus.since(first, 100)).gap).toBe(true);
  });

  it('delivers events another process writes to the same catalog (woken by its doorbell)', async () => {
    const dir = tempDir();
    const writer = open(dir);
    const reader = open(dir);
    closers.push(
      () => writer.close(),
      () => reader.close(),
    );
    const bus = await busOver(reader);
    const got = collect(bus, 3);
    const recs = await writer.addArtifacts([
      art({ session: 'w', name: 'a' }),
      art({ session: 'w', name: 'b' }),
    ]);
    await writer.sealSession('w', Date.now(), () => ({ digest: 'd', signature: 's' }));
    await got.done;
    expect(got.seen.map((e) => e.type)).toEqual([
      'artifact.created',
      'artifact.created',
      'session.sealed',
    ]);
    expect(got.seen.map((e) => (e.data as { id: string }).id)).toEqual([
      ...recs.map((r) => r.id),
      'w',
    ]);
  });
});
