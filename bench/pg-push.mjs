#!/usr/bin/env node
// PostgreSQL catalog vs SQLite, durable small pushes: wrk -t2 -c64 PUTs of distinct 1 KiB
// bodies (bench/small-push.lua) to `cairn serve` on SQLite (durability full) and to
// `cairn serve --catalog postgres://…` on a durable PostgreSQL 15 started here, blobs in the
// local dir for both, rounds interleaved A B A B. Reports pushes/s, the ratio, server CPU per
// push (cairn + every postgres process, from /proc), PostgreSQL transactions and statements per
// push (pg_stat_database, pg_stat_statements), and time to ready (spawn → first /healthz 200)
// of an empty store on each.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { pgCounters, startCairnTimed, startPostgres } from './pg-lib.mjs';
import {
  QUICK,
  ROOT,
  cpuSeconds,
  median,
  record,
  round,
  tempDir,
  waitForLowLoad,
  wrk,
} from './lib.mjs';

const rounds = QUICK ? 1 : Number(process.env.BENCH_ROUNDS ?? 3);
const seconds = QUICK ? 1 : 10;
const starts = QUICK ? 1 : 5;
const script = join(ROOT, 'bench/small-push.lua');

const before = await waitForLowLoad();
const pg = await startPostgres();
const dirs = {
  sqlite: tempDir('cairn-bench-pgpush-sqlite-'),
  postgres: tempDir('cairn-bench-pgpush-pg-'),
};
const args = { sqlite: ['--durability', 'full'], postgres: ['--catalog', pg.url] };
const ready = { sqlite: [], postgres: [] };
/** Every push into one session (as bench/small-push.mjs), or each push a new session. */
const MODES = {
  one_session: (r) => [`/v1/sessions/bench${r}/artifacts/r${r}/f`],
  session_per_push: (r) => [`/v1/sessions/s${r}-`, 'session-per-push'],
};
const runs = Object.fromEntries(Object.keys(MODES).map((m) => [m, { sqlite: [], postgres: [] }]));
try {
  // Time to ready of an empty store (the first start also creates the schema: not counted).
  for (let i = 0; i <= starts; i++)
    for (const name of ['sqlite', 'postgres']) {
      const srv = await startCairnTimed(dirs[name], args[name]);
      await srv.stop();
      if (i > 0) ready[name].push(round(srv.readyMs, 1));
    }
  const servers = {};
  for (const name of ['sqlite', 'postgres'])
    servers[name] = await startCairnTimed(dirs[name], args[name]);
  try {
    for (let r = 0; r < rounds; r++)
      for (const [mode, path] of Object.entries(MODES))
        for (const name of ['sqlite', 'postgres']) {
          const srv = servers[name];
          const [prefix, ...more] = path(r);
          const pgCpu0 = cpuSeconds(pg.pid);
          const cpu0 = cpuSeconds(srv.pid);
          const c0 = await pgCounters(pg);
          const w = wrk({ url: srv.url, script, seconds, args: [prefix, srv.token, ...more] });
          const cairnCpu = cpuSeconds(srv.pid) - cpu0;
          const pgCpu = cpuSeconds(pg.pid) - pgCpu0;
          const c1 = await pgCounters(pg);
          const ok = Math.max(1, w.requests - w.non2xx);
          const run = {
            rps: round(w.rps, 0),
            p99_ms: round(w.p99, 2),
            non2xx: w.non2xx,
            errors: w.errors,
            pushes: ok,
            cairn_cpu_ms_per_push: round((cairnCpu * 1000) / ok, 3),
            postgres_cpu_ms_per_push: round((pgCpu * 1000) / ok, 3),
            server_cpu_ms_per_push: round(
              ((cairnCpu + (name === 'postgres' ? pgCpu : 0)) * 1000) / ok,
              3,
            ),
          };
          if (name === 'postgres') {
            // The counting queries themselves add 1 transaction and 1-2 statements each.
            run.commits_per_push = round((c1.commits - c0.commits - 1) / ok, 2);
            run.rollbacks_per_push = round((c1.rollbacks - c0.rollbacks) / ok, 2);
            run.statements_per_push = round((c1.statements - c0.statements - 2) / ok, 2);
          }
          runs[mode][name].push(run);
          console.log(`round ${r + 1} ${mode} ${name}: ${JSON.stringify(run)}`);
        }
  } finally {
    for (const srv of Object.values(servers)) await srv.stop();
  }
} finally {
  await pg.stop();
  for (const d of Object.values(dirs)) rmSync(d, { recursive: true, force: true });
}
const med = (xs, k) => round(median(xs.map((x) => x[k])), 3);
const spread = (xs, k) => [Math.min(...xs.map((x) => x[k])), Math.max(...xs.map((x) => x[k]))];
const side = (mode, name) => {
  const xs = runs[mode][name];
  const out = {
    rps: med(xs, 'rps'),
    rps_range: spread(xs, 'rps'),
    p99_ms: med(xs, 'p99_ms'),
    server_cpu_ms_per_push: med(xs, 'server_cpu_ms_per_push'),
    cairn_cpu_ms_per_push: med(xs, 'cairn_cpu_ms_per_push'),
    ready_ms_median: median(ready[name]),
    ready_ms_range: [Math.min(...ready[name]), Math.max(...ready[name])],
  };
  if (name === 'postgres')
    Object.assign(out, {
      postgres_cpu_ms_per_push: med(xs, 'postgres_cpu_ms_per_push'),
      commits_per_push: med(xs, 'commits_per_push'),
      rollbacks_per_push: med(xs, 'rollbacks_per_push'),
      statements_per_push: med(xs, 'statements_per_push'),
    });
  return out;
};
const result = {
  wrk: `-t2 -c64 -d${seconds}s`,
  rounds,
  load_before: before,
  postgres_mode: 'durable (fsync, synchronous_commit, full_page_writes on)',
  sqlite: side('one_session', 'sqlite'),
  postgres: side('one_session', 'postgres'),
  session_per_push: {
    sqlite: side('session_per_push', 'sqlite'),
    postgres: side('session_per_push', 'postgres'),
  },
  runs,
  ready,
};
result.ratio = round(result.postgres.rps / result.sqlite.rps, 2);
result.session_per_push.ratio = round(
  result.session_per_push.postgres.rps / result.session_per_push.sqlite.rps,
  2,
);
console.log(
  `durable 1 KiB pushes: sqlite ${result.sqlite.rps}/s, postgres ${result.postgres.rps}/s (${result.ratio}×); ` +
    `server CPU/push ${result.sqlite.server_cpu_ms_per_push} vs ${result.postgres.server_cpu_ms_per_push} ms; ` +
    `${result.postgres.commits_per_push} commits + ${result.postgres.rollbacks_per_push} rollbacks, ${result.postgres.statements_per_push} statements per push; ` +
    `session per push: ${result.session_per_push.sqlite.rps}/s vs ${result.session_per_push.postgres.rps}/s; ` +
    `ready ${result.sqlite.ready_ms_median} vs ${result.postgres.ready_ms_median} ms`,
);
record('pg-push', result);
