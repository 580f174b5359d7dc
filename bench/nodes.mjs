#!/usr/bin/env node
/* global fetch */
// Several nodes, one store: 1, 2 and 3 `cairn serve` nodes on one durable PostgreSQL 15 catalog
// and one radosgw bucket (bluestore; memstore with --quick), both started here, rounds
// interleaved 1 2 3 1 2 3. The load is one wrk process whose threads are spread round-robin over
// the nodes (bench/nodes.lua: -t6 -c60, so 1, 2 or 3 nodes get 60, 30 or 20 connections each,
// the same offered load every time, and no load balancer whose CPU would blur the figures).
// Phases per N: durable pushes of distinct 1 KiB bodies (kept inline in the catalog: the small
// blob tier), of 128 KiB bodies (past the 64 KiB inline limit: one object each on radosgw),
// and a two-key metadata query (newest 50). For each: requests/s, p99, CPU-µs per request of
// the nodes together, postgres (every backend), radosgw, Ceph's mon+OSD and wrk (from /proc);
// PostgreSQL statements, write transactions, commits, rollbacks, WAL fsyncs and WAL bytes per
// request; inline rows and S3 objects per push (which path the bytes took); and what idle nodes
// cost. Writes bench/out/nodes.json. Rerun with `node bench/nodes.mjs`.
import { startPostgres } from './pg-lib.mjs';
import { QUICK, median, record, round, sleep, startRadosgw, waitForLowLoad, wrk } from './lib.mjs';
import {
  NODES_LUA,
  benchBucket,
  cpuNow,
  minus,
  nodeRequests,
  pgCounts,
  startNodes,
} from './nodes-lib.mjs';

const ROUNDS = QUICK ? 1 : Number(process.env.BENCH_ROUNDS ?? 2);
const SECONDS = QUICK ? 2 : Number(process.env.BENCH_SECONDS ?? 10);
/** Wait after a phase for every backend's pgstat flush (an idle one flushes after 10 s). */
const SETTLE_MS = QUICK ? 500 : Number(process.env.BENCH_SETTLE_MS ?? 11_000);
/** Wait at least this after wrk's end for the requests it left in flight (see drain()). */
const DRAIN_MS = QUICK ? 300 : 1000;
const NODES = [1, 2, 3];
const THREADS = 6;
const CONNECTIONS = 60;
const PHASES = {
  push_1k: ['push', 1024],
  push_128k: ['push', 128 * 1024],
  query: ['query'],
};

const loadBefore = await waitForLowLoad();
const pg = await startPostgres();
let pgStopped = false;
const stopPg = async () => {
  if (!pgStopped) await pg.stop();
  pgStopped = true;
};
process.on('exit', () => {
  if (!pgStopped) void pg.stop(); // pg_ctl stop runs synchronously inside
});
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130));
// BENCH_PG_SET="name=value,…": settings for database "cairn" (ALTER DATABASE … SET), to try one.
const pgSettings = (process.env.BENCH_PG_SET ?? '').split(',').filter(Boolean);
for (const kv of pgSettings) {
  const [name, value] = kv.split('=');
  if (!/^[a-z_.]+$/.test(name)) throw new Error(`BENCH_PG_SET: bad setting name ${name}`);
  await pg.sql(`ALTER DATABASE cairn SET ${name} = '${value.replace(/'/g, "''")}'`);
}
const rgw = await startRadosgw();
const bucket = await benchBucket(rgw.endpoint, 'bench-nodes', 'cairn');
const args = ['--catalog', pg.url, '--blobs', bucket.url];

// The first node creates the schema and the sessions wrk pushes into (not measured).
const warm = await startNodes(1, args);
await makeSessions(warm);
await warm.stop();
/** What the counter query itself adds to the counters (read twice back to back, no load). */
const first = await pgCounts(pg);
const overhead = minus(await pgCounts(pg), first);

const runs = Object.fromEntries(
  NODES.map((n) => [n, Object.fromEntries(Object.keys(PHASES).map((p) => [p, []]))]),
);
let idle = null;
try {
  for (let r = 0; r < ROUNDS; r++)
    for (const n of NODES) {
      const cluster = await startNodes(n, args);
      try {
        process.env.CAIRN_NODES = cluster.nodes.map((x) => x.port).join(' ');
        for (const [phase, [mode, size]] of Object.entries(PHASES)) {
          const run = await measure(cluster, phase, mode, size, `r${r}n${n}`);
          runs[n][phase].push(run);
          const { top_statements: _, ...brief } = run;
          console.log(`round ${r + 1}, ${n} node(s), ${phase}: ${JSON.stringify(brief)}`);
        }
        if (r === ROUNDS - 1 && n === NODES.at(-1)) idle = await measureIdle(cluster);
      } finally {
        await cluster.stop();
      }
    }
} finally {
  bucket.close();
  await stopPg();
}

/**
 * One phase against the running nodes: wrk for SECONDS; CPU of every process from its start
 * until the requests it left in flight are done (drain()); PostgreSQL's counters SETTLE_MS
 * later (the exact ones do not move meanwhile but for the nodes' own background work, which
 * is the nodes' cost too). Server figures are per push stored (rows in `artifacts`) or per
 * query answered.
 */
async function measure(cluster, phase, mode, size, tag) {
  const s3Before = mode === 'push' ? await bucket.count() : 0;
  const served = () => Promise.all(cluster.nodes.map((x) => nodeRequests(x, cluster.token)));
  const served0 = await served();
  await pg.sql('SELECT pg_stat_statements_reset()');
  const c0 = await pgCounts(pg);
  const cpu0 = cpuNow(cluster.nodes, pg.pid, rgw.daemons);
  const w = wrk({
    url: cluster.nodes[0].url,
    script: NODES_LUA,
    threads: THREADS,
    connections: CONNECTIONS,
    seconds: SECONDS,
    timeout: 30,
    args: [mode, `${tag}${phase}`, cluster.token, ...(size ? [String(size)] : [])],
  });
  // Pushes wrk gave up waiting for at its end still finish; they count, CPU and all.
  await drain();
  const cpu = minus(cpuNow(cluster.nodes, pg.pid, rgw.daemons), cpu0);
  await sleep(SETTLE_MS);
  const c = minus(minus(await pgCounts(pg), c0), overhead);
  // Per push stored (wrk counts only answers before its end), per query answered.
  const served1 = await served();
  const ok = Math.max(1, mode === 'push' ? c.artifacts : w.requests - w.non2xx);
  const us = (s) => round((s * 1e6) / ok, 0);
  const per = (x, d = 2) => round(x / ok, d);
  const run = {
    rps: round(w.rps, 0),
    counted: ok,
    // Each node's share of the requests (its /metrics): wrk's threads really are spread.
    per_node: served1.map((x, i) => x.all - served0[i].all),
    // Answers by status class as the nodes count them, all nodes together: a 503 is a push
    // whose reruns ran out; the requests wrk cuts at its end count as 4xx.
    statuses: statusDelta(served0, served1),
    p99_ms: round(w.p99, 2),
    requests: w.requests,
    non2xx: w.non2xx,
    errors: w.errors,
    cpu_us: {
      cairn: us(cpu.cairn),
      postgres: us(cpu.postgres),
      radosgw: us(cpu.radosgw),
      ceph: us(cpu.ceph),
      server_total: us(cpu.cairn + cpu.postgres + cpu.radosgw + cpu.ceph),
      wrk: us(cpu.wrk),
    },
    pg: {
      statements: per(c.statements),
      write_xacts: per(c.xids),
      commits: per(c.commits),
      rollbacks: per(c.rollbacks),
      wal_syncs: per(c.wal_syncs, 3),
      wal_bytes: per(c.wal_bytes, 0),
    },
  };
  // Which statements, how often per request (pg_stat_statements was reset before the phase).
  run.top_statements = (
    await pg.sql(
      `SELECT calls, left(regexp_replace(query, '\\s+', ' ', 'g'), 100) AS query
         FROM pg_stat_statements ORDER BY calls DESC LIMIT 12`,
    )
  ).map((x) => `${per(Number(x.calls))} × ${x.query}`);
  if (mode === 'push')
    run.path = {
      inline_rows: per(c.inline_rows),
      s3_objects: per((await bucket.count()) - s3Before),
    };
  else run.results = await queryResults(cluster);
  return run;
}

/** Requests by status class between two reads of every node's {@link nodeRequests}. */
function statusDelta(before, after) {
  const out = {};
  after.forEach((a, i) => {
    for (const [k, v] of Object.entries(a))
      if (k !== 'all' && v - (before[i][k] ?? 0) > 0)
        out[k] = (out[k] ?? 0) + v - (before[i][k] ?? 0);
  });
  return out;
}

/**
 * Waits until the requests wrk left in flight are done: DRAIN_MS, then until no artifact was
 * added for 300 ms (at most 30 s).
 */
async function drain() {
  await sleep(DRAIN_MS);
  const count = async () => Number((await pg.sql('SELECT count(*) AS n FROM artifacts'))[0].n);
  const until = Date.now() + 30_000;
  for (let n = await count(); Date.now() < until;) {
    await sleep(300);
    const m = await count();
    if (m === n) return;
    n = m;
  }
}

/** Pushes one artifact into each session bench/nodes.lua writes to, so that they exist. */
async function makeSessions(cluster) {
  for (let t = 1; t <= THREADS; t++)
    await Promise.all(
      Array.from({ length: 32 }, async (_, k) => {
        const url = `${cluster.nodes[0].url}/v1/sessions/nodes-${t}-${k}/artifacts/start`;
        const res = await fetch(url, {
          method: 'PUT',
          body: 'x',
          headers: { Authorization: `Bearer ${cluster.token}` },
        });
        if (res.status !== 201)
          throw new Error(`push to ${url}: ${res.status} ${await res.text()}`);
      }),
    );
}

/** How many artifacts one of the phase's queries returns (it must find some). */
async function queryResults(cluster) {
  const res = await fetch(
    `${cluster.nodes[0].url}/v1/artifacts?meta.agent=a1&meta.stage=s1&limit=50`,
    {
      headers: { Authorization: `Bearer ${cluster.token}` },
    },
  );
  if (!res.ok) throw new Error(`query answered ${res.status}: ${await res.text()}`);
  return (await res.json()).items.length;
}

/** What the running nodes cost while nobody asks anything: CPU-ms and statements per second. */
async function measureIdle(cluster) {
  const s = QUICK ? 2 : 10;
  const c0 = await pgCounts(pg);
  const cpu0 = cpuNow(cluster.nodes, pg.pid, rgw.daemons);
  await sleep(s * 1000);
  const cpu = minus(cpuNow(cluster.nodes, pg.pid, rgw.daemons), cpu0);
  const c = minus(minus(await pgCounts(pg), c0), overhead);
  return {
    nodes: cluster.nodes.length,
    seconds: s,
    cpu_ms_per_s: {
      cairn: round((cpu.cairn * 1e3) / s, 1),
      postgres: round((cpu.postgres * 1e3) / s, 1),
    },
    statements_per_s: round(c.statements / s, 1),
  };
}

const med = (xs, get) => round(median(xs.map(get)), 3);
const summary = (xs) => {
  const out = {
    rps: med(xs, (x) => x.rps),
    rps_range: [Math.min(...xs.map((x) => x.rps)), Math.max(...xs.map((x) => x.rps))],
    counted: med(xs, (x) => x.counted),
    per_node: xs[0].per_node.map((_, i) => xs.reduce((t, x) => t + x.per_node[i], 0)),
    p99_ms: med(xs, (x) => x.p99_ms),
    non2xx: xs.reduce((s, x) => s + x.non2xx, 0),
    statuses: xs.reduce((s, x) => {
      for (const [k, v] of Object.entries(x.statuses)) s[k] = (s[k] ?? 0) + v;
      return s;
    }, {}),
    cpu_us: Object.fromEntries(
      Object.keys(xs[0].cpu_us).map((k) => [k, med(xs, (x) => x.cpu_us[k])]),
    ),
    pg: Object.fromEntries(Object.keys(xs[0].pg).map((k) => [k, med(xs, (x) => x.pg[k])])),
  };
  if (xs[0].path)
    out.path = Object.fromEntries(
      Object.keys(xs[0].path).map((k) => [k, med(xs, (x) => x.path[k])]),
    );
  if (xs[0].results !== undefined) out.results = Math.min(...xs.map((x) => x.results));
  return out;
};
const result = {
  wrk: `one wrk, -t${THREADS} -c${CONNECTIONS} -d${SECONDS}s, threads round-robin over the nodes`,
  rounds: ROUNDS,
  load_before: loadBefore,
  postgres_mode: 'durable (fsync, synchronous_commit, full_page_writes on)',
  s3_store: QUICK ? 'radosgw memstore' : 'radosgw bluestore',
  settle_ms: SETTLE_MS,
  pg_settings: pgSettings,
  nodes: Object.fromEntries(
    NODES.map((n) => [
      n,
      Object.fromEntries(Object.keys(PHASES).map((p) => [p, summary(runs[n][p])])),
    ]),
  ),
  idle,
  runs,
};
for (const n of NODES) {
  const p = result.nodes[n].push_1k;
  console.log(
    `${n} node(s): 1 KiB push ${p.rps}/s, CPU-µs/push cairn ${p.cpu_us.cairn} postgres ${p.cpu_us.postgres} ` +
      `radosgw ${p.cpu_us.radosgw}; ${p.pg.statements} statements, ${p.pg.write_xacts} write xacts, ` +
      `${p.pg.wal_syncs} WAL fsyncs per push; 128 KiB ${result.nodes[n].push_128k.rps}/s; query ${result.nodes[n].query.rps}/s`,
  );
}
record('nodes', result);
