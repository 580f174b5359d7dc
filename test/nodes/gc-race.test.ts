import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { startCluster } from '../helpers/cluster.js';
import { LONG } from './sizes.js';

// Garbage collection on one node against pushes of the same bytes on others: the bytes a
// push was acknowledged for are never collected under it (leases and collection marks in the
// catalog; a per-process lock would protect nothing here).

describe('GC on one node vs pushes of the same bytes on others', () => {
  it('every re-push acknowledged while another node deletes and collects those bytes reads back whole', async () => {
    const c = await startCluster(3);
    try {
      const [gcNode, b, cNode] = c.nodes;
      let collected = 0;
      for (let round = 0; round < (LONG ? 40 : 8); round++) {
        // Bytes pushed on B; then, at once, node A deletes them (which collects the bytes
        // once unreferenced) and runs GC, while B and C push the same bytes again.
        const bodies = Array.from({ length: 12 }, (_, i) =>
          randomBytes(i % 4 === 0 ? 300_000 : 5_000 + i),
        );
        const old = await Promise.all(
          bodies.map(async (body, i) => {
            const res = await b.fetch(`/v1/sessions/old-${round}/artifacts/f${i}`, {
              method: 'PUT',
              body,
            });
            return ((await res.json()) as { id: string }).id;
          }),
        );
        const [gc, ...pushes] = await Promise.all([
          gcNode.fetch('/v1/gc', { method: 'POST' }).then((r) => r.json()),
          ...old.map(async (id) => {
            const res = await gcNode.fetch(`/v1/artifacts/${id}`, { method: 'DELETE' });
            expect(res.status).toBe(200);
            return null;
          }),
          ...bodies.map(async (body, i) => {
            const res = await [b, cNode][i % 2].fetch(`/v1/sessions/new-${round}/artifacts/f${i}`, {
              method: 'PUT',
              body,
            });
            expect(res.status).toBe(201);
            return ((await res.json()) as { id: string }).id;
          }),
        ]);
        collected += Number((gc as { blobs_freed: number }).blobs_freed);
        for (const [i, id] of pushes.slice(old.length).entries()) {
          const res = await gcNode.fetch(`/v1/artifacts/${id}/content`);
          expect(res.status).toBe(200);
          expect(Buffer.from(await res.arrayBuffer()).equals(bodies[i])).toBe(true);
        }
      }
      const fsck = (await (await gcNode.fetch('/v1/fsck', { method: 'POST' })).json()) as {
        ok: boolean;
        problems: unknown[];
      };
      expect(fsck.problems).toEqual([]);
      console.log(`gc race: ${JSON.stringify({ collected })}`);
    } finally {
      await c.close();
    }
  });
});
