#!/usr/bin/env node
// Where the small-push target stands on this machine: the small-push load (wrk -t2 -c64, distinct
// 1 KiB bodies) against Cairn and two reference servers that are not Cairn, interleaved:
// - `log`: a durable push with no catalog (bench/ceiling/log-server.mjs): what the disk and
//   node:http allow;
// - `row`: Cairn's own SQLite catalog on a writer thread behind the lightest node:http front
//   (bench/ceiling/row-server.mjs): what one catalog row per push allows, whatever the rest
//   costs.
// Prints medians, ratios to Cairn, and each server's CPU per push: in all and on its busiest
// thread (a thread cannot go past 1e6 / that figure pushes per second). nginx is not run here:
// right after bench/small-push.mjs has created and deleted ~10^6 files, its PUTs on this
// filesystem take 4,000-8,000 req/s for minutes instead of 25,000-31,000; its quiet-machine
// figure is small-push's.
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  QUICK,
  ROOT,
  median,
  record,
  round,
  sleep,
  startCairn,
  startListening,
  tempDir,
  threadCpuSeconds,
  waitForLowLoad,
  wrk,
} from './lib.mjs';

const rounds = QUICK ? 1 : Number(process.env.BENCH_ROUNDS ?? 3);
const seconds = QUICK ? 1 : 10;
const script = join(ROOT, 'bench/small-push.lua');
const TOKEN = 'ceiling-bench-token';

const before = await waitForLowLoad();
const dirs = [];
const dir = (name) => {
  const d = tempDir(`cairn-bench-ceiling-${name}-`);
  dirs.push(d);
  return d;
};
const reference = async (name) => ({
  ...(await startListening([join(ROOT, `bench/ceiling/${name}-server.mjs`), dir(name), TOKEN])),
  token: TOKEN,
});
const servers = {
  cairn: await startCairn(dir('cairn')),
  row: await reference('row'),
  log: await reference('log'),
};
const runs = Object.fromEntries(Object.keys(servers).map((k) => [k, []]));
try {
  const names = Object.keys(servers);
  for (let r = 0; r < rounds; r++) {
    // The order rotates each round, and each run starts after a sync and a pause: no server
    // inherits the previous one's writeback or checkpoint.
    for (const name of [...names.slice(r % names.length), ...names.slice(0, r % names.length)]) {
      const srv = servers[name];
      if (!QUICK) {
        spawnSync('sync');
        await sleep(2000);
      }
      const prefix = `/v1/sessions/ceiling${r}/artifacts/f`;
      const cpu0 = threadCpuSeconds(srv.pid);
      const w = wrk({ url: srv.url, script, seconds, args: [prefix, srv.token ?? ''] });
      const used = [...threadCpuSeconds(srv.pid)].map(([t, s]) => s - (cpu0.get(t) ?? 0));
      const perPush = (s) => round((s * 1e6) / Math.max(w.requests - w.non2xx, 1), 1);
      const run = {
        rps: round(w.rps, 0),
        p99_ms: round(w.p99, 2),
        non2xx: w.non2xx,
        cpu_us_per_push: perPush(used.reduce((a, b) => a + b, 0)),
        busiest_thread_us_per_push: perPush(Math.max(...used)),
      };
      runs[name].push(run);
      console.log(`round ${r + 1} ${name}: ${JSON.stringify(run)}`);
    }
  }
} finally {
  for (const srv of Object.values(servers)) await srv.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}
const result = { wrk: `-t2 -c64 -d${seconds}s`, rounds, load_before: before };
for (const [name, rs] of Object.entries(runs)) {
  const m = (k) => round(median(rs.map((x) => x[k])), 1);
  result[name] = {
    rps: m('rps'),
    p99_ms: m('p99_ms'),
    cpu_us_per_push: m('cpu_us_per_push'),
    busiest_thread_us_per_push: m('busiest_thread_us_per_push'),
    to_cairn: round(m('rps') / median(runs.cairn.map((x) => x.rps)), 2),
  };
}
result.runs = runs;
console.log(
  `ceiling: cairn ${result.cairn.rps} req/s; catalog row on a writer thread ${result.row.to_cairn}×, durable log ${result.log.to_cairn}×`,
);
record('ceiling', result);
