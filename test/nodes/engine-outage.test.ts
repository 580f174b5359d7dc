import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import pgLib from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster } from '../helpers/cluster.js';
import { startPrivatePostgres, type PrivatePostgres } from '../helpers/engines/pg-private.js';
import { createBucket, startRadosGw, type RadosGw } from '../helpers/engines/s3-engine.js';
import { testS3 } from '../helpers/engines/s3.js';
import { healthUntil, Load, type NodeFetch } from '../helpers/outage-load.js';

// Three `cairn serve` on one durable PostgreSQL and one radosgw of the test's own: PostgreSQL
// stopped and started again mid-load, then radosgw stopped (SIGTERM) and started again. While
// an engine is down every node answers 503 with Retry-After (never a 500) and /healthz names
// the store; once it is back every node serves again by itself (no node restarted), and every
// acknowledged push is there, byte for byte, through every node.

let pg: PrivatePostgres;
let rgw: RadosGw;
beforeAll(async () => {
  [pg, rgw] = await Promise.all([startPrivatePostgres({ durable: true }), startRadosGw()]);
  await createBucket(rgw.endpoint, process.env.CAIRN_TEST_S3_BUCKET ?? 'cairn-tests');
});
afterAll(async () => {
  rgw?.stop();
  await pg?.close();
});

/** Each node's /healthz until `pred`; asserts it held on every node. */
async function everyNodeHealth(
  c: Cluster,
  pred: (status: number, body: Record<string, unknown>) => boolean,
  want: Record<string, unknown>,
): Promise<void> {
  for (const node of c.nodes) {
    const f: NodeFetch = (_n, path, init) => node.fetch(path, init);
    const h = await healthUntil(f, 0, pred);
    expect(h.body, `node ${node.index} /healthz`).toMatchObject(want);
    if (h.status === 503) expect(h.retryAfter).toMatch(/^\d+$/);
  }
}

describe('engines stopped mid-load under three nodes', () => {
  it('PostgreSQL restarted, then radosgw stopped and started: 503s meanwhile, every node back by itself, nothing acknowledged lost', async () => {
    const c = await startCluster(3, [], {
      engines: { catalogUrl: await pg.createDatabase(), s3: testS3(rgw.endpoint) },
    });
    const pids = c.nodes.map((n) => n.proc.child.pid);
    const f: NodeFetch = (n, path, init) => c.pick(n).fetch(path, init);
    const load = new Load(f, { workers: 4, sessions: 3, names: 4, tag: 'out' });
    const figures: Record<string, number> = {};
    const t0 = performance.now();
    const mark = (what: string) => (figures[`${what}AtMs`] = Math.round(performance.now() - t0));
    load.start();
    try {
      // PostgreSQL: a fast stop (every session ended, open transactions rolled back).
      await load.waitFor(() => load.count(201) >= 12, 'pushes before the PostgreSQL stop');
      let down = performance.now();
      await pg.stop('fast');
      mark('pgStopped');
      await load.waitFor(() => load.count(503, down) >= 10, '503s while PostgreSQL is down');
      await everyNodeHealth(c, (st) => st === 503, { ok: false, catalog: 'down' });
      await pg.start();
      mark('pgStarted');
      let up = performance.now();
      await load.waitFor(
        () => load.outcomes.some((o) => o.status === 201 && o.sentAt > up),
        'a push acknowledged after PostgreSQL is back',
      );
      figures.pgOutageMs = Math.round(up - down);
      figures.pgRefused = load.count(503, down);
      figures.pgFirstPushAfterMs = firstAfter(load, up);
      await everyNodeHealth(c, (st) => st === 200, { ok: true, catalog: 'ok', blobs: 'ok' });
      await eventsAcrossNodes(c);

      // radosgw: SIGTERM (Ceph keeps the objects); inline-sized pushes go on meanwhile.
      const before = load.count(201);
      await load.waitFor(() => load.count(201) >= before + 12, 'pushes before the radosgw stop');
      down = performance.now();
      mark('rgwStop');
      await rgw.stopGateway('SIGTERM');
      mark('rgwStopped');
      const during = (o: { status: number; sentAt: number; code?: string }) => o.sentAt > down;
      await load.waitFor(
        () =>
          load.outcomes.filter((o) => during(o) && o.code === 'blob_store_unavailable').length >=
            10 && load.outcomes.filter((o) => during(o) && o.status === 201).length >= 3,
        'blob_store_unavailable 503s and inline pushes acknowledged while radosgw is down',
      );
      await everyNodeHealth(c, (st) => st === 503, { ok: false, catalog: 'ok', blobs: 'down' });
      await rgw.restartGateway();
      mark('rgwStarted');
      up = performance.now();
      figures.inlineAckedDuringS3Outage = load.outcomes.filter(
        (o) => during(o) && o.sentAt < up && o.status === 201,
      ).length;
      await load.waitFor(
        () => load.outcomes.some((o) => o.status === 201 && o.sentAt > up && o.size > 65_536),
        'a large push acknowledged after radosgw is back',
      );
      figures.s3OutageMs = Math.round(up - down);
      figures.s3Refused = load.count(503, down);
      figures.s3FirstLargePushAfterMs = firstAfter(load, up, 65_536);
      await everyNodeHealth(c, (st) => st === 200, { ok: true, catalog: 'ok', blobs: 'ok' });
      mark('loadEnd');
    } finally {
      await load.stop();
    }
    try {
      // No node was restarted: each recovered on its own.
      expect(c.nodes.map((n) => n.proc.child.pid)).toEqual(pids);
      expect(c.nodes.map((n) => n.proc.child.exitCode)).toEqual([null, null, null]);
      const codes = load.outcomes.map((o) => o.code);
      expect(codes).toContain('catalog_unavailable');
      expect(codes).toContain('blob_store_unavailable');
      const { listed, orphans } = await load.verify();
      // Bytes stored by a push refused at its catalog commit, awaiting GC: only those.
      expect(orphans).toBeLessThanOrEqual(load.refusedPushes());
      mark('verified');
      console.log(
        `engine outage, 3 nodes: ${JSON.stringify({ ...figures, acknowledged: load.acknowledged().length, listed, orphans })}`,
      );
    } finally {
      await c.close();
    }
  }, 120_000);
});

/** Polls `cond` every 20 ms until it holds (30 s at most). */
async function until(cond: () => Promise<boolean>, what: string): Promise<void> {
  for (const end = performance.now() + 30_000; !(await cond()); await sleep(20))
    if (performance.now() > end) throw new Error(`still waiting for ${what}`);
}

/**
 * Events after PostgreSQL came back: every node's LISTEN connection (the doorbell) is open
 * again, and a waiter on node 0 wakes on a seal made on node 1.
 */
async function eventsAcrossNodes(c: Cluster): Promise<void> {
  const db = new pgLib.Client({ connectionString: c.catalogUrl });
  await db.connect();
  try {
    const listening = async () =>
      (
        await db.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_stat_activity
            WHERE application_name = 'cairn-events' AND datname = current_database()`,
        )
      ).rows[0].n;
    await until(async () => (await listening()) === c.nodes.length, 'every node LISTENing again');
  } finally {
    await db.end();
  }
  const [a, b] = c.nodes;
  const waiting = a.fetch('/v1/sessions/after-restart/wait?until=sealed&timeout=60s');
  await until(
    async () => /^cairn_open_waiters 1$/m.test(await (await a.fetch('/metrics')).text()),
    'the waiter on node 0',
  );
  const put = await b.fetch('/v1/sessions/after-restart/artifacts/x.txt', {
    method: 'PUT',
    body: 'x',
  });
  expect(put.status).toBe(201);
  const seal = await b.fetch('/v1/sessions/after-restart/seal', { method: 'POST' });
  expect(seal.status).toBe(200);
  const res = await waiting;
  expect(res.status).toBe(200);
  expect(await res.json()).toMatchObject({ sealed: true });
}

/** ms from `t` until the first push sent after it (larger than `minSize`) was acknowledged. */
function firstAfter(load: Load, t: number, minSize = 0): number {
  const o = load.outcomes.find((x) => x.status === 201 && x.sentAt > t && x.size > minSize);
  return Math.round((o?.doneAt ?? t) - t);
}
