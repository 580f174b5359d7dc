#!/usr/bin/env node
// Small pushes: wrk -t2 -c64 PUTs of distinct 1 KiB bodies to distinct names, Cairn (default
// durability: fsynced before the 201) against nginx WebDAV PUT with 2 workers, interleaved
// A B A B. Prints medians, the ratio, p99 latency and requests per server CPU-second.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  QUICK,
  ROOT,
  cpuSeconds,
  median,
  record,
  round,
  startCairn,
  startNginx,
  tempDir,
  waitForLowLoad,
  wrk,
} from './lib.mjs';

const rounds = QUICK ? 1 : Number(process.env.BENCH_ROUNDS ?? 3);
const seconds = QUICK ? 1 : 10;
const durability = process.env.BENCH_DURABILITY ?? 'full';
const script = join(ROOT, 'bench/small-push.lua');

const before = await waitForLowLoad();
const cairnDir = tempDir('cairn-bench-small-');
const nginxDir = tempDir('nginx-bench-small-');
const cairn = await startCairn(cairnDir, ['--durability', durability]);
const nginx = await startNginx(nginxDir, 2);
const runs = { cairn: [], nginx: [] };
try {
  for (let r = 0; r < rounds; r++) {
    for (const [name, srv, prefix, token] of [
      ['cairn', cairn, `/v1/sessions/bench${r}/artifacts/r${r}/f`, cairn.token],
      ['nginx', nginx, `/dav/r${r}/f`, ''],
    ]) {
      const cpu0 = cpuSeconds(srv.pid);
      const w = wrk({ url: srv.url, script, seconds, args: [prefix, token] });
      const cpu = cpuSeconds(srv.pid) - cpu0;
      const ok = w.requests - w.non2xx;
      const run = {
        rps: round(w.rps, 0),
        p99_ms: round(w.p99, 2),
        non2xx: w.non2xx,
        errors: w.errors,
        req_per_cpu_s: round(ok / Math.max(cpu, 0.01), 0),
        server_cpu_s: round(cpu, 2),
      };
      runs[name].push(run);
      console.log(`round ${r + 1} ${name}: ${JSON.stringify(run)}`);
    }
  }
} finally {
  await cairn.stop();
  await nginx.stop();
  rmSync(cairnDir, { recursive: true, force: true });
  rmSync(nginxDir, { recursive: true, force: true });
}
const sum = (xs, k) => round(median(xs.map((x) => x[k])), 2);
const result = {
  durability,
  wrk: `-t2 -c64 -d${seconds}s`,
  rounds,
  load_before: before,
  cairn: {
    rps: sum(runs.cairn, 'rps'),
    p99_ms: sum(runs.cairn, 'p99_ms'),
    req_per_cpu_s: sum(runs.cairn, 'req_per_cpu_s'),
  },
  nginx: {
    rps: sum(runs.nginx, 'rps'),
    p99_ms: sum(runs.nginx, 'p99_ms'),
    req_per_cpu_s: sum(runs.nginx, 'req_per_cpu_s'),
  },
  runs,
};
result.ratio = round(result.cairn.rps / result.nginx.rps, 2);
console.log(
  `small pushes: cairn ${result.cairn.rps} req/s (p99 ${result.cairn.p99_ms} ms), nginx ${result.nginx.rps} req/s (p99 ${result.nginx.p99_ms} ms), ratio ${result.ratio}`,
);
record(durability === 'full' ? 'small-push' : `small-push-${durability}`, result);
