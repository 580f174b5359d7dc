#!/usr/bin/env node
/* global performance, fetch */
// The single binary (dist/cairn, built if missing): its size, the glibc it needs, how long
// `cairn version` takes, and how long `cairn serve` takes until it is ready, cold (fresh HOME:
// the native binding is extracted first; fresh data dir) and warm (cache and data dir exist).
// `cairn version` is also timed with hyperfine when it is installed (apt-get install hyperfine).
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { join } from 'node:path';
import {
  QUICK,
  ROOT,
  cpuSeconds,
  load,
  median,
  percentile,
  record,
  round,
  tempDir,
  waitForLowLoad,
} from './lib.mjs';

const BIN = join(ROOT, 'dist', 'cairn');
const runs = QUICK ? 3 : 20;

if (!fs.existsSync(BIN)) {
  const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'build-binary.mjs')], {
    stdio: 'inherit',
  });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

const work = tempDir('cairn-bench-binary-');
const env = (home) => ({ PATH: '/usr/bin:/bin', HOME: home });

/** Highest GLIBC_x.y (and GLIBCXX_) symbol version a shared object or executable asks for. */
function maxVersions(file) {
  const out = spawnSync('objdump', ['-T', file], { encoding: 'utf8' }).stdout ?? '';
  const max = (prefix) =>
    [...out.matchAll(new RegExp(`\\b${prefix}_([0-9.]+)`, 'g'))]
      .map((m) => m[1])
      .sort((a, b) => a.localeCompare(b, undefined, { numeric: true }))
      .at(-1) ?? null;
  return { glibc: max('GLIBC'), glibcxx: max('GLIBCXX') };
}

/** Wall-clock ms of one run of the binary to completion. */
function timeRun(args, home) {
  const t0 = performance.now();
  const r = spawnSync(BIN, args, { env: env(home), encoding: 'utf8' });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`cairn ${args.join(' ')} failed: ${r.stderr}`);
  return ms;
}

/** ms from spawn to the "listening" line, and to the first 200 from /healthz. */
async function timeServe(home, dataDir) {
  const t0 = performance.now();
  const child = spawn(BIN, ['serve', '--port', '0', '--data', dataDir], {
    env: env(home),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise((r) => child.on('exit', r));
  let out = '';
  const url = await new Promise((res, rej) => {
    child.stdout.on('data', (d) => {
      out += d;
      const m = /listening on (\S+)/.exec(out);
      if (m) res(m[1].replace(/\/$/, ''));
    });
    child.on('exit', (code) => rej(new Error(`cairn serve exited with ${code}: ${out}`)));
  });
  const listening = performance.now() - t0;
  // CPU the server used until it listened: unlike wall time, barely moved by other load.
  const cpu = cpuSeconds(child.pid) * 1000;
  let healthy = null;
  while (healthy === null) {
    const res = await fetch(`${url}/healthz`).catch(() => null);
    if (res?.status === 200) healthy = performance.now() - t0;
  }
  child.kill('SIGTERM');
  await exited;
  return { listening, healthy, cpu };
}

const summary = (xs) => ({
  median_ms: round(median(xs), 1),
  p90_ms: round(percentile(xs, 90), 1),
  runs: xs.length,
});

const before = await waitForLowLoad();
const size = fs.statSync(BIN).size;

// `cairn version`: a client command; the native binding is never touched.
const versionHome = join(work, 'version-home');
fs.mkdirSync(versionHome);
timeRun(['version'], versionHome);
const version = summary(Array.from({ length: runs }, () => timeRun(['version'], versionHome)));
const inside = JSON.parse(
  spawnSync(BIN, ['version', '--json'], { env: env(versionHome), encoding: 'utf8' }).stdout,
);

let hyperfine = null;
if (spawnSync('hyperfine', ['--version']).status === 0) {
  const json = join(work, 'hyperfine.json');
  const r = spawnSync(
    'hyperfine',
    ['-N', '--warmup', '3', '--runs', String(runs), '--export-json', json, `${BIN} version`],
    { encoding: 'utf8', env: { ...env(versionHome), PATH: process.env.PATH } },
  );
  if (r.status === 0) {
    const res = JSON.parse(fs.readFileSync(json, 'utf8')).results[0];
    hyperfine = {
      mean_ms: round(res.mean * 1000, 1),
      stddev_ms: round(res.stddev * 1000, 1),
      cpu_user_ms: round(res.user * 1000, 1),
      cpu_system_ms: round(res.system * 1000, 1),
    };
  }
}

// `cairn serve`, cold then warm, each in its own fresh HOME and data dir.
const cold = { listening: [], healthy: [], cpu: [] };
const warm = { listening: [], healthy: [], cpu: [] };
let nativeFile = null;
for (let i = 0; i < Math.max(3, runs / 2); i++) {
  const home = join(work, `serve-home-${i}`);
  const data = join(work, `serve-data-${i}`);
  fs.mkdirSync(home);
  for (const [into, t] of [
    [cold, await timeServe(home, data)],
    [warm, await timeServe(home, data)],
  ]) {
    into.listening.push(t.listening);
    into.healthy.push(t.healthy);
    into.cpu.push(t.cpu);
  }
  const dir = join(home, '.cache', 'cairn', 'native');
  nativeFile ??= join(dir, fs.readdirSync(dir)[0]);
}

const result = {
  binary: BIN,
  node_inside: inside.node,
  size_bytes: size,
  size_mib: round(size / 1024 ** 2, 1),
  requires: {
    executable: maxVersions(BIN),
    better_sqlite3_node: maxVersions(nativeFile),
  },
  version_start: version,
  version_start_hyperfine: hyperfine,
  serve_ready_cold: {
    listening: summary(cold.listening),
    healthz: summary(cold.healthy),
    cpu_until_listening: summary(cold.cpu),
  },
  serve_ready_warm: {
    listening: summary(warm.listening),
    healthz: summary(warm.healthy),
    cpu_until_listening: summary(warm.cpu),
  },
  load_before: before,
  load_after: load(),
};
console.log(JSON.stringify(result, null, 2));
record('binary', result);
fs.rmSync(work, { recursive: true, force: true });
