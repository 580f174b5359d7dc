#!/usr/bin/env node
/* global performance */
// Queries at 1,000,000 artifacts (bench/generate-catalog.mjs): p50/p99 of 2-key metadata
// equality queries (selective and unselective pairs), a where= expression and session
// listings, newest 50, in-process (the SqliteCatalog) and over HTTP (cairn serve, keep-alive).
import http from 'node:http';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { generatedCatalog } from './generate-catalog.mjs';
import { benchQueries } from './queries.mjs';
import { QUICK, ROOT, percentile, record, round, startCairn, waitForLowLoad } from './lib.mjs';

const count = QUICK ? 20_000 : Number(process.env.BENCH_ARTIFACTS ?? 1_000_000);
const iterations = QUICK ? 20 : Number(process.env.BENCH_ITERATIONS ?? 100);
const mod = (p) => import(pathToFileURL(join(ROOT, 'build', p)).href);
const { SqliteCatalog } = await mod('catalog/sqlite/sqlite-catalog.js');
const { parseWhere } = await mod('core/where-parser.js');

const QUERIES = benchQueries(count, parseWhere);

function stats(xs) {
  return { p50_ms: round(percentile(xs, 50), 3), p99_ms: round(percentile(xs, 99), 3) };
}

const before = await waitForLowLoad();
const dir = await generatedCatalog(count);
const inProcess = {};
const catalog = SqliteCatalog.open({ dir, durability: 'full' });
for (const [name, [kind, q]] of Object.entries(QUERIES)) {
  const run = () =>
    kind === 'a'
      ? catalog.queryArtifacts({ limit: 50, ...q }, Date.now())
      : catalog.listSessions({ limit: 50, ...q }, Date.now());
  // The first run is reported on its own: it pays for cold caches and for building the
  // planner's metadata bitmaps, which later runs reuse.
  const first = performance.now();
  await run();
  const firstMs = round(performance.now() - first, 3);
  for (let i = 0; i < 4; i++) await run();
  const xs = [];
  let n = 0;
  for (let i = 0; i < iterations; i++) {
    const t = performance.now();
    n = (await run()).items.length;
    xs.push(performance.now() - t);
  }
  inProcess[name] = { ...stats(xs), first_ms: firstMs, results: n };
  console.log(`in-process ${name}: ${JSON.stringify(inProcess[name])}`);
}
await catalog.close();

const server = await startCairn(dir);
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const get = (path) =>
  new Promise((res, rej) => {
    http
      .get(
        `${server.url}${path}`,
        { agent, headers: { Authorization: `Bearer ${server.token}` } },
        (r) => {
          let body = '';
          r.setEncoding('utf8');
          r.on('data', (d) => (body += d));
          r.on('end', () =>
            r.statusCode === 200 ? res(body) : rej(new Error(`${path}: ${r.statusCode} ${body}`)),
          );
        },
      )
      .on('error', rej);
  });
const overHttp = {};
try {
  for (const [name, [kind, , qs]] of Object.entries(QUERIES)) {
    const path = `${kind === 'a' ? '/v1/artifacts' : '/v1/sessions'}?limit=50${qs ? `&${qs}` : ''}`;
    for (let i = 0; i < 5; i++) await get(path);
    const xs = [];
    for (let i = 0; i < iterations; i++) {
      const t = performance.now();
      await get(path);
      xs.push(performance.now() - t);
    }
    overHttp[name] = stats(xs);
    console.log(`http ${name}: ${JSON.stringify(overHttp[name])}`);
  }
} finally {
  agent.destroy();
  await server.stop();
}
const worst = (o) =>
  Math.max(
    ...Object.entries(o)
      .filter(([k]) => k.includes('pair'))
      .map(([, v]) => v.p99_ms),
  );
record('query', {
  artifacts: count,
  iterations,
  load_before: before,
  worst_pair_p99_ms: { in_process: worst(inProcess), http: worst(overHttp) },
  in_process: inProcess,
  http: overHttp,
});
