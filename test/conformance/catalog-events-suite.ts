import { expect, it } from 'vitest';
import type { Catalog } from '../../src/catalog/catalog.js';
import type { CairnEvent } from '../../src/core/events.js';
import { artifactRecord as A, sessionRecord as S } from '../../src/core/records.js';
import { T0, SHA, art, code } from './fixtures.js';

/** Every event after `cursor`, read a page of `page` at a time. */
export async function readAll(c: Catalog, cursor: number, page = 1000): Promise<CairnEvent[]> {
  const out: CairnEvent[] = [];
  for (;;) {
    const p = await c.events.readAfter(cursor, page);
    expect(p.gap).toBe(false);
    out.push(...p.events);
    if (p.events.length < page) return out;
    cursor = p.events[p.events.length - 1].id;
  }
}

/** `type session` of each event, for comparing sequences at a glance. */
const kinds = (evs: CairnEvent[]) => evs.map((e) => `${e.type} ${e.session}`);

/**
 * The event stream every Catalog implementation must keep, one instance at a time (see
 * EventCatalog): an event per change with the data clients get, written in the change's own
 * transaction, read in stream order through a cursor, bounded by trim with gaps reported.
 */
export function runCatalogEventSuite(make: () => Promise<Catalog>): void {
  it('appends one event per change, with the data SSE clients get', async () => {
    const c = await make();
    const t0 = await c.events.tail();
    const a1 = await c.addArtifact(art({ session: 'e', name: 'a', deduplicated: false }));
    const a2 = await c.addArtifact(art({ session: 'e', name: 'a' }));
    const [b1, b2] = await c.addArtifacts([
      art({ session: 'e', name: 'b', deduplicated: true }),
      art({ session: 'e', name: 'c', deduplicated: false }),
    ]);
    const gone = await c.deleteArtifact(b2.id, T0);
    const pruned = await c.retention.pruneVersions('e', 'a', 1, T0);
    const sealed = await c.sealSession('e', T0 + 1, () => ({ digest: 'd', signature: 's' }));
    await c.sealSession('e', T0 + 2, () => ({ digest: 'x', signature: 'x' }));
    await c.addArtifact(art({ session: 'del', name: 'x' }));
    await c.retention.deleteSession('del', T0);
    await c.addArtifact(art({ session: 'exp', sessionExpiresAt: T0 + 5 }));
    const alone = await c.addArtifact(art({ session: 'stay', expiresAt: T0 + 5 }));
    await c.addArtifact(art({ session: 'stay', name: 'keep' }));
    await c.retention.sweepExpired(T0 + 10, 100);
    const imported = await c.imports.importSession({
      id: 'imp',
      meta: {},
      createdAt: T0,
      sealedAt: T0,
      digest: 'd',
      signature: 's',
      sealKey: null,
      expiresAt: null,
      now: T0 + 10,
      artifacts: [
        {
          id: 'a_imp2',
          name: 'z',
          version: 1,
          sha256: SHA('a'),
          size: 1,
          contentType: 'text/plain',
          meta: {},
          createdAt: T0,
          derivedFrom: [],
        },
        {
          id: 'a_imp1',
          name: 'y',
          version: 1,
          sha256: SHA('a'),
          size: 1,
          contentType: 'text/plain',
          meta: {},
          createdAt: T0,
          derivedFrom: [],
        },
      ],
    });
    const evs = await readAll(c, t0);
    expect(kinds(evs)).toEqual([
      'artifact.created e',
      'artifact.created e',
      'artifact.created e',
      'artifact.created e',
      'artifact.deleted e',
      'artifact.deleted e',
      'session.sealed e',
      'artifact.created del',
      'session.deleted del',
      'artifact.created exp',
      'artifact.created stay',
      'artifact.created stay',
      'session.expired exp',
      'artifact.deleted stay',
      'artifact.created imp',
      'artifact.created imp',
      'session.sealed imp',
    ]);
    // Stored events hold the API records of the rows (catalog/event-payload.ts), the same as
    // core's formatter gives (core/records.ts): nodes one release apart read them as they are.
    expect(evs.map((e) => e.data)).toEqual([
      { ...A(a1), deduplicated: false },
      A(a2),
      { ...A(b1), deduplicated: true },
      { ...A(b2), deduplicated: false },
      A(gone.artifact),
      { ...A(pruned.removed[0]), reason: 'pruned' },
      S(sealed),
      expect.objectContaining({ session: 'del' }),
      { id: 'del', artifacts: 1 },
      expect.objectContaining({ session: 'exp' }),
      A(alone),
      expect.objectContaining({ session: 'stay', name: 'keep' }),
      { id: 'exp', artifacts: 1 },
      { ...A(alone), reason: 'expired' },
      expect.objectContaining({ id: 'a_imp1', name: 'y' }),
      expect.objectContaining({ id: 'a_imp2', name: 'z' }),
      S(imported),
    ]);
    // Byte for byte, key order included: SSE clients get this JSON as it is stored.
    expect(JSON.stringify(evs[1].data)).toBe(JSON.stringify(A(a2)));
    expect(JSON.stringify(evs[6].data)).toBe(JSON.stringify(S(sealed)));
    expect(JSON.stringify(evs[16].data)).toBe(JSON.stringify(S(imported)));
    expect(pruned.removed.map((r) => r.id)).toEqual([a1.id]);
    for (const [k, e] of evs.entries()) {
      expect(e.id).toBeGreaterThan(k === 0 ? t0 : evs[k - 1].id);
      expect(new Date(e.at).toISOString()).toBe(e.at);
    }
    expect(await c.events.tail()).toBe(evs.at(-1)?.id);
    await c.close();
  });

  it('a write that fails or rolls back appends nothing (the event is in its transaction)', async () => {
    const c = await make();
    await c.addArtifact(art({ session: 'f', name: 'p' }));
    await c.sealSession('f', T0, () => ({ digest: 'd', signature: 's' }));
    const open = await c.addArtifact(art({ session: 'g' }));
    const t = await c.events.tail();
    // The batch's first row (and its event) is written before the second fails: all undone.
    const bad = c.addArtifacts([
      art({ session: 'g', name: 'ok' }),
      art({ session: 'g', name: 'bad', derivedFrom: ['a_00000000000000000000000000'] }),
    ]);
    expect(await code(bad)).toBe('invalid_derived_from');
    expect(await code(c.addArtifact(art({ session: 'f' })))).toBe('session_sealed');
    const prunedFirst = c.imports.importSession({
      id: 'g',
      meta: {},
      createdAt: T0,
      sealedAt: null,
      digest: null,
      signature: null,
      sealKey: null,
      expiresAt: null,
      now: T0,
      artifacts: [],
    });
    expect(await code(prunedFirst)).toBe('session_exists');
    expect(await code(c.retention.deleteSession('f', T0))).toBe('session_sealed');
    expect(await code(c.deleteArtifact('a_00000000000000000000000000', T0))).toBe('not_found');
    expect(await c.events.tail()).toBe(t);
    expect(await readAll(c, t)).toEqual([]);
    // The next event takes the next id: nothing of the failed writes is left in the stream.
    await c.deleteArtifact(open.id, T0);
    const [next] = await readAll(c, t);
    expect(next).toMatchObject({ id: await c.events.tail(), type: 'artifact.deleted' });
    await c.close();
  });

  it('reads in stream order a page at a time from any cursor; tail is "from now on"', async () => {
    const c = await make();
    const t0 = await c.events.tail();
    for (let i = 0; i < 25; i++) await c.addArtifact(art({ session: 'o', name: `n${i}` }));
    const all = await readAll(c, t0);
    expect(all.map((e) => (e.data as { name: string }).name)).toEqual(
      Array.from({ length: 25 }, (_, i) => `n${i}`),
    );
    expect(await readAll(c, t0, 7)).toEqual(all);
    expect(await readAll(c, all[9].id, 4)).toEqual(all.slice(10));
    const tail = await c.events.tail();
    expect(tail).toBe(all[24].id);
    expect(await c.events.readAfter(tail, 10)).toEqual({ events: [], gap: false });
    await c.addArtifact(art({ session: 'o', name: 'later' }));
    expect(kinds(await readAll(c, tail))).toEqual(['artifact.created o']);
    await c.close();
  });

  it('trim keeps the newest N and the young; a reader behind it is told of the gap', async () => {
    const c = await make();
    const t0 = await c.events.tail();
    for (let i = 0; i < 10; i++) await c.addArtifact(art({ session: 't', name: `n${i}` }));
    const all = await readAll(c, t0);
    expect(await c.events.trim({ before: 0, keep: 4 })).toBe(6);
    expect(await c.events.trim({ before: 0, keep: 4 })).toBe(0);
    const behind = await c.events.readAfter(t0, 100);
    expect(behind.gap).toBe(true);
    expect(behind.events).toEqual(all.slice(6));
    const oldest = await c.events.oldest();
    expect(await c.events.readAfter(oldest, 100)).toEqual({ events: all.slice(6), gap: false });
    expect(await c.events.readAfter(all[7].id, 100)).toEqual({ events: all.slice(8), gap: false });
    // By age: everything written before now goes, whatever `keep` says; ids are never reused.
    expect(await c.events.trim({ before: Date.now() + 60_000, keep: 1000 })).toBe(4);
    expect(await c.events.tail()).toBe(all[9].id);
    expect(await c.events.readAfter(all[9].id, 10)).toEqual({ events: [], gap: false });
    expect((await c.events.readAfter(t0, 10)).gap).toBe(true);
    await c.addArtifact(art({ session: 't', name: 'after' }));
    const [next] = (await c.events.readAfter(await c.events.oldest(), 10)).events;
    expect(next.id).toBeGreaterThan(all[9].id);
    await c.close();
  });

  it('rings its watchers after its own commits, and stops when told', async () => {
    const c = await make();
    let rings = 0;
    let rang!: () => void;
    const ring = new Promise<void>((r) => (rang = r));
    const stop = c.events.watch(() => {
      rings++;
      rang();
    });
    const t = await c.events.tail();
    await c.addArtifact(art({ session: 'w' }));
    await ring;
    expect(rings).toBeGreaterThan(0);
    expect(kinds(await readAll(c, t))).toEqual(['artifact.created w']);
    stop();
    await c.close();
  });
}
