import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPrivatePostgres, type PrivatePostgres } from '../helpers/engines/pg-private.js';
import { healthUntil, Load, type NodeFetch } from '../helpers/outage-load.js';
import { spawnServer, tempDir, type ServerProcess } from '../helpers/server.js';

// The real `cairn serve` on a durable PostgreSQL of the test's own (fsync and synchronous_commit
// on), which the test stops, crashes and restarts under concurrent pushes; and kill -9 of
// `cairn serve` itself under load. Blobs in the data dir (the S3 outages are in
// test/nodes/engine-outage.test.ts).

let pg: PrivatePostgres;
beforeAll(async () => {
  pg = await startPrivatePostgres({ durable: true });
});
afterAll(async () => pg?.close());

const fetcher =
  (s: () => ServerProcess): NodeFetch =>
  (_n, path, init = {}) =>
    fetch(s().url + path, {
      ...init,
      headers: {
        Authorization: `Bearer ${s().token}`,
        ...(init.headers as Record<string, string>),
      },
    });

describe('PostgreSQL stopped and restarted under load', () => {
  it('503 catalog_unavailable with Retry-After while it is down; cairn recovers by itself; nothing acknowledged lost', async () => {
    const server = await spawnServer(tempDir(), ['--catalog', await pg.createDatabase()]);
    const f = fetcher(() => server);
    const load = new Load(f, { workers: 6, sessions: 2, names: 4, tag: 'pgr' });
    const figures: Record<string, unknown>[] = [];
    load.start();
    try {
      // A clean stop (sessions ended), a crash (WAL replayed at start), then pg_ctl restart.
      for (const mode of ['fast', 'immediate'] as const) {
        const before = load.count(201);
        await load.waitFor(() => load.count(201) >= before + 20, 'pushes before the stop');
        const acknowledgedBefore = load.count(201) - before;
        const down = performance.now();
        await pg.stop(mode);
        await load.waitFor(() => load.count(503, down) >= 10, `503s while stopped (${mode})`);
        const h = await healthUntil(f, 0, (st) => st === 503);
        expect(h.status).toBe(503);
        expect(h.body).toMatchObject({ ok: false, catalog: 'down', blobs: 'ok' });
        expect(h.retryAfter).toMatch(/^\d+$/);
        await pg.start();
        const up = performance.now();
        await load.waitFor(
          () => load.outcomes.some((o) => o.status === 201 && o.sentAt > up),
          `a push acknowledged after the start (${mode})`,
        );
        const first = load.outcomes.find((o) => o.status === 201 && o.sentAt > up);
        expect((await healthUntil(f, 0, (st) => st === 200)).status).toBe(200);
        figures.push({
          mode,
          outageMs: Math.round(up - down),
          acknowledgedBefore,
          refused503: load.count(503, down),
          firstPushAfterStartMs: Math.round((first?.doneAt ?? up) - up),
        });
      }
      const before = load.count(201);
      await pg.restart('immediate');
      const up = performance.now();
      await load.waitFor(
        () => load.outcomes.some((o) => o.status === 201 && o.sentAt > up),
        'a push acknowledged after pg_ctl restart',
      );
      figures.push({ mode: 'pg_ctl restart -m immediate', acknowledged: load.count(201) - before });
    } finally {
      await load.stop();
    }
    // The same process all along: the pool reconnected by itself.
    expect(server.child.exitCode).toBe(null);
    expect(load.outcomes.filter((o) => o.status === 0)).toEqual([]);
    expect(load.outcomes.map((o) => o.code)).not.toContain('blob_store_unavailable');
    const { listed, orphans } = await load.verify();
    // Bytes stored by a push refused at its catalog commit, awaiting GC: only those.
    expect(orphans).toBeLessThanOrEqual(load.refusedPushes());
    await server.stop();
    console.log(
      `pg restart: ${JSON.stringify({ figures, acknowledged: load.acknowledged().length, listed, orphans })}`,
    );
  }, 120_000);
});

describe('kill -9 of cairn serve on a durable PostgreSQL', () => {
  it('every push acknowledged before the kill is there after PostgreSQL crashed too and both restarted', async () => {
    const dataDir = tempDir();
    const args = ['--catalog', await pg.createDatabase()];
    let server = await spawnServer(dataDir, args);
    const f = fetcher(() => server);
    const load = new Load(f, { workers: 8, sessions: 3, names: 5, tag: 'k9', cuts: true });
    let kills = 0;
    for (let cycle = 0; cycle < 2; cycle++) {
      const before = load.count(201);
      load.start();
      await load.waitFor(() => load.count(201) >= before + 40, 'pushes before the kill');
      await server.kill9();
      kills++;
      await load.stop();
      // What PostgreSQL acknowledged is on disk: a crash of it loses none of it.
      await pg.stop('immediate');
      await pg.start();
      server = await spawnServer(dataDir, args);
    }
    const { listed, orphans } = await load.verify();
    await server.stop();
    const lost = load.outcomes.filter((o) => o.status === 0).length;
    expect(lost).toBeGreaterThan(0); // the kills cut requests in flight: the test proves something
    // Bytes of pushes cut by the kills, still leased (10 min) and then collected: only those.
    expect(orphans).toBeLessThanOrEqual(lost);
    console.log(
      `kill -9 on durable pg: ${JSON.stringify({ kills, acknowledged: load.acknowledged().length, cut: lost, listed, orphans })}`,
    );
  }, 120_000);
});
