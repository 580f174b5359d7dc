import { setImmediate as tick } from 'node:timers/promises';
import { expect, it } from 'vitest';
import type { Catalog } from '../../src/catalog/catalog.js';
import type { CairnEvent } from '../../src/core/events.js';
import type { CatalogPair } from './catalog-concurrency-suite.js';
import { T0, art } from './fixtures.js';

/**
 * A long-lived reader of one instance's stream, as the EventBus is: it reads from its cursor
 * each time the doorbell rings, a small page at a time, and never polls on its own.
 */
function follow(c: Catalog, from: number, page = 16) {
  const seen: CairnEvent[] = [];
  let cursor = from;
  let rung = true;
  let wake: (() => void) | null = null;
  const waiters: { upTo: number; done: () => void }[] = [];
  const stop = c.events.watch(() => {
    rung = true;
    wake?.();
  });
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      if (!rung) await new Promise<void>((r) => (wake = r));
      wake = null;
      rung = false;
      for (;;) {
        const p = await c.events.readAfter(cursor, page);
        expect(p.gap).toBe(false);
        for (const e of p.events) seen.push(e);
        if (p.events.length > 0) cursor = p.events[p.events.length - 1].id;
        if (p.events.length < page) break;
      }
      for (const w of waiters) if (cursor >= w.upTo) w.done();
    }
  })();
  return {
    seen,
    /** Resolves once the reader has read up to `id`: only the doorbell can get it there. */
    reach: (id: number) =>
      cursor >= id
        ? Promise.resolve()
        : new Promise<void>((done) => waiters.push({ upTo: id, done })),
    close: async () => {
      stopped = true;
      stop();
      wake?.();
      await loop;
    },
  };
}

/**
 * Event-stream cases with two instances over one store (two processes or nodes): each reads
 * what the other writes, its doorbell rings for the other's commits, and a long-lived reader
 * sees every event exactly once while both write at once.
 */
export function runCatalogEventConcurrencySuite(makePair: () => Promise<CatalogPair>): void {
  it('events written by one instance are read by the other, whose doorbell rings', async () => {
    const { a, b, close } = await makePair();
    const from = await b.events.tail();
    let rang!: () => void;
    const ring = new Promise<void>((r) => (rang = r));
    const stop = b.events.watch(() => rang());
    const rec = await a.addArtifact(art({ session: 'x', name: 'from-a' }));
    await ring;
    const page = await b.events.readAfter(from, 10);
    expect(page.events.map((e) => [e.type, (e.data as { id: string }).id])).toEqual([
      ['artifact.created', rec.id],
    ]);
    expect(await b.events.tail()).toBe(await a.events.tail());
    stop();
    await close();
  });

  it('a long-lived reader on each instance sees every event of both writers exactly once, in order', async () => {
    const { a, b, close } = await makePair();
    const from = await a.events.tail();
    const readers = [follow(a, from), follow(b, from, 5)];
    const created: string[] = [];
    const deleted: string[] = [];
    for (let r = 0; r < 15; r++) {
      // Pushes, batches and deletes from both instances at once, interleaved differently.
      const ops = Array.from({ length: 8 }, (_, i) => async () => {
        const c = i % 2 ? a : b;
        await Promise.all(Array.from({ length: (i + r) % 4 }, () => tick()));
        if (i % 3 === 0) {
          const recs = await c.addArtifacts([
            art({ session: `r${r}`, name: `b${i}-1` }),
            art({ session: `r${r}`, name: `b${i}-2` }),
          ]);
          created.push(...recs.map((x) => x.id));
          const gone = await (i % 2 ? b : a).deleteArtifact(recs[0].id, T0);
          deleted.push(gone.artifact.id);
        } else {
          created.push((await c.addArtifact(art({ session: `r${r}`, name: `p${i}` }))).id);
        }
      });
      await Promise.all(ops.map((op) => op()));
      await (r % 2 ? a : b).sealSession(`r${r}`, T0, () => ({ digest: 'd', signature: 's' }));
    }
    // Last, a write on one instance alone: only its doorbell can bring the other's reader there.
    created.push((await a.addArtifact(art({ session: 'last' }))).id);
    const end = await a.events.tail();
    for (const rd of readers) await rd.reach(end);
    for (const rd of readers) {
      await rd.close();
      const ids = rd.seen.map((e) => e.id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids.every((id, k) => k === 0 || id > ids[k - 1])).toBe(true);
      const of = (type: string) =>
        rd.seen.filter((e) => e.type === type).map((e) => (e.data as { id: string }).id);
      expect(of('artifact.created').sort()).toEqual([...created].sort());
      expect(of('artifact.deleted').sort()).toEqual([...deleted].sort());
      expect(of('session.sealed').sort()).toEqual(
        Array.from({ length: 15 }, (_, r) => `r${r}`).sort(),
      );
      expect(ids.at(-1)).toBe(end);
    }
    expect(readers[0].seen).toEqual(readers[1].seen);
    await close();
  });
}
