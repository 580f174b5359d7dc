#!/usr/bin/env node
/* global performance */
// PostgreSQL catalog vs SQLite, queries at 1,000,000 artifacts: the catalog of
// bench/generate-catalog.mjs, copied into a durable PostgreSQL 15 (bench/pg-load-catalog.mjs),
// the queries of bench/queries.mjs timed in-process (SqliteCatalog vs PgCatalog) and over HTTP
// (two `cairn serve`, keep-alive), A and B interleaved query by query; EXPLAIN ANALYZE of each
// PostgreSQL query (which tables it scans whole), with the catalog's metadata bitmaps as the
// timed runs left them; time to ready (spawn → first /healthz 200).
import http from 'node:http';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { generatedCatalog } from './generate-catalog.mjs';
import { QUICK, ROOT, median, percentile, record, round, tempDir, waitForLowLoad } from './lib.mjs';
import { loadIntoPostgres } from './pg-load-catalog.mjs';
import { startCairnTimed, startPostgres } from './pg-lib.mjs';
import { benchQueries } from './queries.mjs';

const count = QUICK ? 20_000 : Number(process.env.BENCH_ARTIFACTS ?? 1_000_000);
const iterations = QUICK ? 20 : Number(process.env.BENCH_ITERATIONS ?? 100);
const starts = QUICK ? 1 : 5;
const mod = (p) => import(pathToFileURL(join(ROOT, 'build', p)).href);
const { SqliteCatalog } = await mod('catalog/sqlite/sqlite-catalog.js');
const { PgCatalog } = await mod('catalog/postgres/pg-catalog.js');
const { sessionQuerySqlPg } = await mod('catalog/postgres/pg-query-sql.js');
const { PAIR_LIMITS, queryArtifactRowsPg } = await mod('catalog/postgres/pg-artifact-query.js');
const { parseWhere } = await mod('core/where-parser.js');
const QUERIES = benchQueries(count, parseWhere);
const SIDES = ['sqlite', 'postgres'];
const stats = (xs) => ({
  p50_ms: round(percentile(xs, 50), 3),
  p99_ms: round(percentile(xs, 99), 3),
});

/** Times `run[side]()` for both sides, interleaved; the first run of each is kept apart. */
async function timeBoth(run) {
  const first = {};
  for (const side of SIDES) {
    const t = performance.now();
    await run[side]();
    first[side] = round(performance.now() - t, 3);
  }
  for (let i = 0; i < 4; i++) for (const side of SIDES) await run[side]();
  const xs = { sqlite: [], postgres: [] };
  let results = 0;
  for (let i = 0; i < iterations; i++)
    for (const side of SIDES) {
      const t = performance.now();
      results = await run[side]();
      xs[side].push(performance.now() - t);
    }
  return Object.fromEntries(
    SIDES.map((s) => [s, { ...stats(xs[s]), first_ms: first[s], results }]),
  );
}

/**
 * Large tables the plans of a query's statements read whole (Seq Scan), and their summed
 * execution time, from EXPLAIN ANALYZE of each statement the catalog runs for it (an artifact
 * query with metadata pairs runs in stages, see pg-artifact-query.ts).
 */
async function explain(catalog, kind, q) {
  const statements = [];
  const now = Date.now();
  if (kind === 'a') {
    await catalog.db.read(10_000, (t) => {
      const rec = (f) => (text, params) => (statements.push({ text, params }), t[f](text, params));
      return queryArtifactRowsPg(
        { all: rec('all'), get: rec('get'), run: rec('run') },
        { limit: 50, ...q },
        now,
        PAIR_LIMITS,
        catalog.bitmaps,
      );
    });
  } else statements.push(sessionQuerySqlPg({ limit: 50, ...q }, now));
  const plan = [];
  for (const sql of statements) {
    const rows = await catalog.db.read(10_000, (t) =>
      t.all(`EXPLAIN (ANALYZE, BUFFERS) ${sql.text}`, sql.params),
    );
    plan.push(...rows.map((r) => r['QUERY PLAN']));
  }
  const scanned = [...new Set(plan.flatMap((l) => /Seq Scan on (\w+)/.exec(l)?.[1] ?? []))];
  // A table of a few rows (lineage is empty here) is read whole by any plan: not a finding.
  const big = await catalog.db.read(10_000, (t) =>
    t.all("SELECT relname FROM pg_class WHERE relkind = 'r' AND reltuples > 10000"),
  );
  const names = new Set(big.map((r) => r.relname));
  return {
    seq_scans: scanned.filter((t) => names.has(t)),
    seq_scans_small: scanned.filter((t) => !names.has(t)),
    execution_ms: round(
      [...plan.join('\n').matchAll(/Execution Time: ([\d.]+)/g)].reduce(
        (n, m) => n + Number(m[1]),
        0,
      ),
      3,
    ),
    statements: statements.length,
    plan,
  };
}

const before = await waitForLowLoad();
const dir = await generatedCatalog(count);
const pg = await startPostgres();
const pgDir = tempDir('cairn-bench-pgquery-');
const result = { artifacts: count, iterations, load_before: before, in_process: {}, http: {} };
try {
  result.pg_load_s = round(await loadIntoPostgres(dir, pg), 1);
  const cat = {
    sqlite: SqliteCatalog.open({ dir, durability: 'full' }),
    postgres: await PgCatalog.open({ url: pg.url }),
  };
  result.explain = {};
  for (const [name, [kind, q]] of Object.entries(QUERIES)) {
    const run = Object.fromEntries(
      SIDES.map((s) => [
        s,
        async () =>
          (kind === 'a'
            ? await cat[s].queryArtifacts({ limit: 50, ...q }, Date.now())
            : await cat[s].listSessions({ limit: 50, ...q }, Date.now())
          ).items.length,
      ]),
    );
    result.in_process[name] = await timeBoth(run);
    result.explain[name] = await explain(cat.postgres, kind, q);
    console.log(`in-process ${name}: ${JSON.stringify(result.in_process[name])}`);
    console.log(
      `  postgres plan: ${result.explain[name].statements} statements, seq scans [${result.explain[name].seq_scans}], ${result.explain[name].execution_ms} ms`,
    );
  }
  for (const c of Object.values(cat)) await c.close();

  const args = { sqlite: [dir, []], postgres: [pgDir, ['--catalog', pg.url]] };
  const ready = { sqlite: [], postgres: [] };
  for (let i = 0; i <= starts; i++)
    for (const side of SIDES) {
      const srv = await startCairnTimed(...args[side]);
      await srv.stop();
      if (i > 0) ready[side].push(round(srv.readyMs, 1));
    }
  result.ready_ms = Object.fromEntries(
    SIDES.map((s) => [s, { median: median(ready[s]), runs: ready[s] }]),
  );
  console.log(`time to ready: ${JSON.stringify(result.ready_ms)}`);

  const srv = {};
  for (const side of SIDES) srv[side] = await startCairnTimed(...args[side]);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 2 });
  try {
    for (const [name, [kind, , qs]] of Object.entries(QUERIES)) {
      const path = `${kind === 'a' ? '/v1/artifacts' : '/v1/sessions'}?limit=50${qs ? `&${qs}` : ''}`;
      const run = Object.fromEntries(SIDES.map((s) => [s, () => get(agent, srv[s], path)]));
      result.http[name] = await timeBoth(run);
      console.log(`http ${name}: ${JSON.stringify(result.http[name])}`);
    }
  } finally {
    agent.destroy();
    for (const s of Object.values(srv)) await s.stop();
  }
} finally {
  await pg.stop();
  rmSync(pgDir, { recursive: true, force: true });
}
const worst = (o, side) =>
  Math.max(
    ...Object.entries(o)
      .filter(([k]) => k.includes('pair'))
      .map(([, v]) => v[side].p99_ms),
  );
result.worst_pair_p99_ms = Object.fromEntries(
  SIDES.map((s) => [s, { in_process: worst(result.in_process, s), http: worst(result.http, s) }]),
);
record('pg-query', result);

/** GET `path` from `server` with its admin token; resolves with the number of items. */
function get(agent, server, path) {
  return new Promise((res, rej) => {
    http
      .get(
        `${server.url}${path}`,
        { agent, headers: { Authorization: `Bearer ${server.token}` } },
        (r) => {
          let body = '';
          r.setEncoding('utf8');
          r.on('data', (d) => (body += d));
          r.on('end', () =>
            r.statusCode === 200
              ? res(JSON.parse(body).items.length)
              : rej(new Error(`${path}: ${r.statusCode} ${body}`)),
          );
        },
      )
      .on('error', rej);
  });
}
