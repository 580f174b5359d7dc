import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../helpers/cluster.js';
import { RACE_PUSHES } from './sizes.js';

// Several real `cairn serve` processes on one PostgreSQL database and one radosgw prefix:
// what one process used to guarantee with its own locks must hold across processes.

/** A push through `node`; the status and JSON answer. */
async function push(
  c: Cluster,
  i: number,
  sid: string,
  name: string,
  body: Buffer | string,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await c.pick(i).fetch(`/v1/sessions/${sid}/artifacts/${name}`, {
    method: 'PUT',
    body,
    headers,
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

describe('nodes racing on one store', () => {
  it(`two nodes racing ${RACE_PUSHES} pushes of one name give versions 1..N, each acknowledged push present`, async () => {
    const c = await startCluster(2);
    try {
      const bodies = Array.from(
        { length: RACE_PUSHES },
        (_, i) => `push ${i} ${randomBytes(4).toString('hex')}`,
      );
      // 16 in flight per node, alternating nodes.
      const acks: { version: number; id: string; body: string }[] = [];
      let next = 0;
      const worker = async () => {
        for (let i = next++; i < bodies.length; i = next++) {
          const r = await push(c, i, 'race', 'same.txt', bodies[i]);
          expect(r.status, c.errors()).toBe(201);
          acks.push({
            version: r.json.version as number,
            id: r.json.id as string,
            body: bodies[i],
          });
        }
      };
      await Promise.all(Array.from({ length: 32 }, worker));
      const versions = acks.map((a) => a.version).sort((a, b) => a - b);
      expect(versions).toEqual(Array.from({ length: RACE_PUSHES }, (_, i) => i + 1));
      // Every acknowledged version reads back through the other node with its bytes.
      for (const [k, a] of acks.entries()) {
        const res = await c
          .pick(k + 1)
          .fetch(`/v1/sessions/race/artifacts/same.txt?version=${a.version}`);
        expect(res.status).toBe(200);
        expect(await res.text()).toBe(a.body);
      }
    } finally {
      await c.close();
    }
  });

  it('a seal on node B while A and C push: acknowledged pushes are in the manifest, later ones 409', async () => {
    const c = await startCluster(3);
    try {
      expect(
        (
          await c.nodes[0].fetch('/v1/sessions', {
            method: 'POST',
            body: JSON.stringify({ id: 'sealrace' }),
            headers: { 'Content-Type': 'application/json' },
          })
        ).status,
      ).toBe(201);
      const acked: string[] = [];
      const refused: string[] = [];
      let sealed = false;
      const pusher = async (node: number, w: number) => {
        for (let k = 0; ; k++) {
          const name = `n${node}-w${w}-${k}.txt`;
          const res = await c.nodes[node].fetch(`/v1/sessions/sealrace/artifacts/${name}`, {
            method: 'PUT',
            body: name,
          });
          if (res.status === 201) acked.push(name);
          else {
            expect(res.status, `${await res.text()} ${c.errors()}`).toBe(409);
            refused.push(name);
            if (sealed) return;
          }
          await res.body?.cancel().catch(() => undefined);
        }
      };
      const pushers = [0, 2].flatMap((n) => [0, 1, 2, 3].map((w) => pusher(n, w)));
      // Seal on B once pushes are flowing.
      while (acked.length < 40) await new Promise((r) => setTimeout(r, 5));
      const seal = await c.nodes[1].fetch('/v1/sessions/sealrace/seal', { method: 'POST' });
      expect(seal.status).toBe(200);
      sealed = true;
      await Promise.all(pushers);
      const manifest = (await (
        await c.nodes[2].fetch('/v1/sessions/sealrace/manifest')
      ).json()) as {
        artifacts: { name: string }[];
      };
      expect(manifest.artifacts.map((a) => a.name).sort()).toEqual([...acked].sort());
      expect(refused.length).toBeGreaterThanOrEqual(8);
    } finally {
      await c.close();
    }
  });

  it('the same Idempotency-Key on two nodes at once is stored once, with the same answer', async () => {
    const c = await startCluster(2);
    try {
      for (let round = 0; round < 20; round++) {
        const key = `k-${round}`;
        const body = randomBytes(2048);
        const [a, b] = await Promise.all(
          [0, 1].map((n) => push(c, n, 'idem', `f${round}.bin`, body, { 'Idempotency-Key': key })),
        );
        expect([a.status, b.status]).toEqual([201, 201]);
        expect(b.json).toEqual(a.json);
      }
      const s = (await (await c.nodes[0].fetch('/v1/sessions/idem')).json()) as {
        artifacts: { name: string; version: number }[];
      };
      expect(s.artifacts).toHaveLength(20);
      expect(s.artifacts.every((a) => a.version === 1)).toBe(true);
    } finally {
      await c.close();
    }
  });

  it('a share link capped at N, downloaded 10N times at once over three nodes, lets exactly N through', async () => {
    const c = await startCluster(3);
    try {
      const { json } = await push(c, 0, 'share', 'x.bin', randomBytes(10_000));
      for (const cap of [1, 5, 12]) {
        const res = await c.nodes[1].fetch(`/v1/artifacts/${json.id as string}/share`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ max_downloads: cap }),
        });
        const link = new URL(((await res.json()) as { url: string }).url);
        const statuses = await Promise.all(
          Array.from({ length: 10 * cap }, async (_, i) => {
            const r = await fetch(c.pick(i).url + link.pathname);
            await r.arrayBuffer();
            return r.status;
          }),
        );
        expect(statuses.filter((s) => s === 200)).toHaveLength(cap);
        expect(statuses.filter((s) => s !== 200).every((s) => s === 410)).toBe(true);
      }
    } finally {
      await c.close();
    }
  });
});
