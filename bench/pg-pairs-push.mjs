#!/usr/bin/env node
/* global performance */
// What the artifact_pairs GIN index (migration 4) adds to a push: PgCatalog.addArtifact of a
// 1 KiB artifact with 8 metadata pairs into a durable PostgreSQL 15, with the trigger that
// fills artifact_pairs on and off (DISABLE TRIGGER: the push as it was before), in alternating
// rounds. Reports wall ms per push and the PostgreSQL backend's CPU-µs per push (one pooled
// connection, read from /proc), medians over rounds.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { QUICK, ROOT, cpuSeconds, median, record, round, waitForLowLoad } from './lib.mjs';
import { startPostgres } from './pg-lib.mjs';

const rounds = QUICK ? 2 : 10;
const perRound = QUICK ? 50 : 300;
const { PgCatalog } = await import(
  pathToFileURL(join(ROOT, 'build/catalog/postgres/pg-catalog.js')).href
);

const before = await waitForLowLoad();
const pg = await startPostgres();
const result = { rounds, per_round: perRound, load_before: before };
try {
  const cat = await PgCatalog.open({ url: pg.url, poolSize: 1 });
  const backend = (await cat.db.get('SELECT pg_backend_pid() AS pid')).pid;
  const cpu = () => cpuSeconds(backend);
  let n = 0;
  const push = () => {
    const i = n++;
    return cat.addArtifact({
      id: `a_${String(i).padStart(26, '0')}`,
      session: `s${Math.floor(i / 100)}`,
      name: `f${i % 100}`,
      sha256: i.toString(16).padStart(64, '0'),
      size: 1024,
      contentType: 'application/json',
      meta: {
        agent: ['claude', 'gpt', 'gemini'][i % 3],
        pipeline: `p${i % 20}`,
        stage: ['dev', 'qa', 'prod'][i % 3],
        customer: `c${i % 1000}`,
        run: `run_${Math.floor(i / 100)}`,
        score: (i % 101) / 100 + '',
        env: i % 2 ? 'prod' : 'dev',
        tier: i % 4 ? 'silver' : 'gold',
      },
      createdAt: Date.now(),
      expiresAt: null,
      derivedFrom: [],
      sessionExpiresAt: null,
    });
  };
  for (let i = 0; i < perRound; i++) await push(); // warm-up
  const sides = { with_index: [], without_index: [] };
  const cpus = { with_index: [], without_index: [] };
  for (let r = 0; r < rounds; r++)
    for (const side of ['without_index', 'with_index']) {
      const on = side === 'with_index' ? 'ENABLE' : 'DISABLE';
      await pg.sql(`ALTER TABLE artifact_meta ${on} TRIGGER artifact_pairs_add`);
      const c0 = cpu();
      const t0 = performance.now();
      for (let i = 0; i < perRound; i++) await push();
      sides[side].push((performance.now() - t0) / perRound);
      cpus[side].push(((cpu() - c0) * 1e6) / perRound);
    }
  for (const side of Object.keys(sides))
    result[side] = {
      wall_ms_per_push: round(median(sides[side]), 3),
      pg_cpu_us_per_push: round(median(cpus[side]), 1),
    };
  const size = await pg.sql(
    "SELECT pg_relation_size('artifact_pairs') AS heap, pg_relation_size('artifact_pairs_gin') AS gin, (SELECT count(*) FROM artifact_pairs) AS rows",
  );
  result.artifact_pairs = size[0];
  await cat.close();
} finally {
  await pg.stop();
}
console.log(JSON.stringify(result, null, 2));
record('pg-pairs-push', result);
