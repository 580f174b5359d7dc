import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { startCluster, type Cluster } from '../helpers/cluster.js';

// What nodes must agree on: one admin token, one seal key, revocations, one sweeper.

/** `cairn_sweeper_runs_total` of every node (null for a dead one). */
async function sweeps(c: Cluster, dead: Set<number>): Promise<(number | null)[]> {
  return Promise.all(
    c.nodes.map(async (n) => {
      if (dead.has(n.index)) return null;
      const text = await (await n.fetch('/metrics')).text();
      return Number(/^cairn_sweeper_runs_total (\d+)/m.exec(text)?.[1]);
    }),
  );
}

describe('nodes sharing a store', () => {
  it('accept one admin token, sign with one key, and refuse a token revoked elsewhere within 1 s', async () => {
    const c = await startCluster(3);
    try {
      // Each node wrote the catalog's admin token into its own data dir.
      expect(c.nodes.map((n) => n.proc.token)).toEqual([c.token, c.token, c.token]);
      const keys = await Promise.all(c.nodes.map(async (n) => (await n.fetch('/v1/keys')).json()));
      expect(keys[1]).toEqual(keys[0]);
      expect(keys[2]).toEqual(keys[0]);

      // A seal made on A verifies through B (the CLI against B: signature, digest, bytes).
      const [a, b] = c.nodes;
      for (const f of ['a.txt', 'b.txt'])
        await a.fetch(`/v1/sessions/sealed/artifacts/${f}`, { method: 'PUT', body: f });
      expect((await a.fetch('/v1/sessions/sealed/seal', { method: 'POST' })).status).toBe(200);
      const v = await runCli(['verify', 'sealed', '--url', b.url, '--token', c.token]);
      expect(v.code, v.stdout + v.stderr).toBe(0);

      // A token used on B (so B has it cached), revoked on A: refused on B 1 s later.
      const made = (await (
        await a.fetch('/v1/tokens', {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ scope: 'read' }),
        })
      ).json()) as { id: string; token: string };
      const asIt = { headers: { Authorization: `Bearer ${made.token}` } };
      for (const n of c.nodes) expect((await n.fetch('/v1/sessions', asIt)).status).toBe(200);
      expect((await a.fetch(`/v1/tokens/${made.id}`, { method: 'DELETE' })).status).toBe(200);
      expect((await a.fetch('/v1/sessions', asIt)).status).toBe(401);
      await sleep(1100);
      for (const n of c.nodes) expect((await n.fetch('/v1/sessions', asIt)).status).toBe(401);
    } finally {
      await c.close();
    }
  });

  it('exactly one node sweeps, and leadership moves when that node is killed -9', async () => {
    const c = await startCluster(3, ['--sweep-interval', '100ms']);
    const dead = new Set<number>();
    try {
      /** Waits until one node has swept `rounds` times; returns its index after checking the rest never swept. */
      const leader = async (base: (number | null)[], rounds: number): Promise<number> => {
        for (;;) {
          const now = await sweeps(c, dead);
          const grown = now.map((x, i) => (x === null ? 0 : x - (base[i] ?? 0)));
          const top = grown.indexOf(Math.max(...grown));
          if (grown[top] >= rounds) {
            expect(grown.filter((g) => g > 0)).toEqual([grown[top]]);
            return top;
          }
          await sleep(100);
        }
      };
      const first = await leader([0, 0, 0], 5);
      await c.kill9(first);
      dead.add(first);
      const base = await sweeps(c, dead);
      const second = await leader(base, 5);
      expect(second).not.toBe(first);
    } finally {
      await c.close();
    }
  });
});
