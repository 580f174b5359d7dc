import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';

// Queries run on read workers with their own SQLite connections: a push answered 201 must be
// in every query sent after that answer (WAL: a commit is visible to every read begun later).
let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => s.close());

type Items = { items: { id: string }[] };

describe('read-your-writes across the read workers', () => {
  it('finds each acknowledged push at once, with 8 writers pushing and querying concurrently', async () => {
    const rounds = 25;
    const writer = async (w: number): Promise<void> => {
      for (let r = 0; r < rounds; r++) {
        const put = await s.fetch(`/v1/sessions/rw${w}/artifacts/f${r}.txt?meta.round=${w}-${r}`, {
          method: 'PUT',
          body: `writer ${w} round ${r}`,
        });
        expect(put.status).toBe(201);
        const { id } = (await put.json()) as { id: string };
        const [byMeta, bySession, session] = await Promise.all([
          s.fetch(`/v1/artifacts?meta.round=${w}-${r}`).then((x) => x.json() as Promise<Items>),
          s.fetch(`/v1/artifacts?session=rw${w}&limit=1`).then((x) => x.json() as Promise<Items>),
          s.fetch(`/v1/sessions/rw${w}`).then((x) => x.json() as Promise<{ artifacts: unknown[] }>),
        ]);
        expect(byMeta.items.map((a) => a.id)).toEqual([id]);
        expect(bySession.items[0].id).toBe(id);
        expect(session.artifacts).toHaveLength(r + 1);
      }
    };
    await Promise.all(Array.from({ length: 8 }, (_, w) => writer(w)));
    const all = (await (await s.fetch('/v1/artifacts?limit=1000')).json()) as Items;
    expect(all.items).toHaveLength(8 * rounds);
  });
});
