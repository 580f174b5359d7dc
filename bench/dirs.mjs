#!/usr/bin/env node
// Directories of many small files, side by side in one run against a real Ceph radosgw that
// this script starts (bluestore; memstore with --quick): `cairn push DIR` / `cairn pull SESSION
// -o DIR` against `aws s3 sync` and `rclone copy` of the same tree (N files of ~1 KiB in 20
// directories), and a re-push of the unchanged tree (`--sync`, with the hashes the first push
// remembered in a cache dir of the benchmark's own). Reports files/s, the client's and the
// server's CPU per file, the ratios to the faster peer and the re-push's speed-up over the first
// push (target: 10×), for bin/cairn.js on this Node and for the single binary (dist/cairn, Node
// 22, built first), with each one's start alone (`node -e 0`, `dist/cairn version`). Writes
// bench/out/dirs.json.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { join } from 'node:path';
import {
  QUICK,
  ROOT,
  cpuSeconds,
  startRadosgw,
  median,
  record,
  round,
  sleep,
  startCairn,
  tempDir,
  waitForLowLoad,
} from './lib.mjs';

const SIZES = QUICK ? [200] : [2000, 10000];
const ROUNDS = QUICK ? 1 : 3;
const KEY = 'CAIRNTESTACCESSKEY01';
const SECRET = 'cairn-test-secret-key-0123456789abcdef';
const base = tempDir('cairn-bench-dirs-');
const CLI = join(ROOT, 'bin/cairn.js');
const BIN = join(ROOT, 'dist/cairn');
// The binary as the sources are now (the native binding is cached, so this takes seconds).
const built = spawnSync(process.execPath, [join(ROOT, 'scripts/build-binary.mjs')], {
  encoding: 'utf8',
});
if (built.status !== 0) throw new Error(`build:binary failed: ${built.stderr}`);
const AWS = fs.existsSync('/usr/bin/aws') ? '/usr/bin/aws' : 'aws';

const { endpoint, pids: cephPids } = await startRadosgw();
// rclone refuses any AWS_CA_BUNDLE with its plain-http transport; radosgw is plain http here.
const { AWS_CA_BUNDLE: _bundle, ...baseEnv } = process.env;
const s3env = {
  ...baseEnv,
  AWS_ACCESS_KEY_ID: KEY,
  AWS_SECRET_ACCESS_KEY: SECRET,
  AWS_DEFAULT_REGION: 'us-east-1',
  RCLONE_CONFIG_RGW_TYPE: 's3',
  RCLONE_CONFIG_RGW_PROVIDER: 'Ceph',
  RCLONE_CONFIG_RGW_ENDPOINT: endpoint,
  RCLONE_CONFIG_RGW_ACCESS_KEY_ID: KEY,
  RCLONE_CONFIG_RGW_SECRET_ACCESS_KEY: SECRET,
};
const cairn = await startCairn(join(base, 'cairn-data'));
const cairnEnv = {
  ...process.env,
  CAIRN_URL: cairn.url,
  CAIRN_TOKEN: cairn.token,
  XDG_CACHE_HOME: join(base, 'xdg-cache'),
};
const aws = (...args) => [AWS, '--endpoint-url', endpoint, ...args];
const run = (argv, env, label) => {
  const r = spawnSync('bash', ['-c', '"$@" >/dev/null || exit $?; times', 'bash', ...argv], {
    encoding: 'utf8',
    env,
  });
  if (r.status !== 0) throw new Error(`${label} failed: ${r.stderr}`);
  // `times`: the shell's user/sys, then its children's (the command).
  const [u, s] = r.stdout.trim().split('\n').at(-1).split(/\s+/).map(minSec);
  return u + s;
};
spawnSync(aws('s3', 'mb', 's3://bench')[0], aws('s3', 'mb', 's3://bench').slice(1), { env: s3env });

/** Times one transfer: wall seconds, client CPU-s, server CPU-s (Cairn or Ceph's daemons). */
function timed(argv, env, serverPids, label) {
  const before = serverPids.reduce((n, p) => n + cpuSeconds(p), 0);
  const t0 = Date.now();
  const client = run(argv, env, label);
  const wall = (Date.now() - t0) / 1000;
  const server = serverPids.reduce((n, p) => n + cpuSeconds(p), 0) - before;
  return { wall, client, server };
}

const results = {};
const loadBefore = await waitForLowLoad();
for (const n of SIZES) {
  const src = join(base, `tree-${n}`);
  for (let i = 0; i < n; i++) {
    const d = join(src, `d${i % 20}`);
    fs.mkdirSync(d, { recursive: true });
    fs.writeFileSync(join(d, `f${i}.json`), `${JSON.stringify({ i, pad: 'x'.repeat(1000) })}\n`);
  }
  // A file changed less than 2 s before it is hashed is not remembered (racily clean): without
  // this pause the first round's re-push would hash the files written last, as no real
  // re-push of a tree written earlier does.
  await sleep(2100);
  const rows = {
    cairn: [],
    aws: [],
    rclone: [],
    cairnPull: [],
    awsPull: [],
    rclonePull: [],
    resync: [],
    binPush: [],
    binResync: [],
  };
  const nodeStart = [];
  const binStart = [];
  await waitForLowLoad();
  for (let r = 0; r < ROUNDS; r++) {
    const id = `${n}-${r}`;
    const out = (what) => join(base, `out-${what}-${id}`);
    rows.cairn.push(
      timed(['node', CLI, 'push', src, '--session', `s${id}`], cairnEnv, [cairn.pid], 'cairn push'),
    );
    rows.aws.push(
      timed(aws('s3', 'sync', src, `s3://bench/aws-${id}/`), s3env, cephPids, 'aws s3 sync'),
    );
    rows.rclone.push(
      timed(['rclone', 'copy', src, `rgw:bench/rc-${id}`], s3env, cephPids, 'rclone copy'),
    );
    rows.resync.push(
      timed(
        ['node', CLI, 'push', src, '--session', `s${id}`, '--sync'],
        cairnEnv,
        [cairn.pid],
        'cairn push --sync',
      ),
    );
    // Node's own start (`node -e 0`, same environment): the floor of any re-push by the CLI.
    nodeStart.push(timed(['node', '-e', '0'], cairnEnv, [], 'node -e 0'));
    // The same first push and re-push through the single binary, into a session of its own.
    rows.binPush.push(
      timed([BIN, 'push', src, '--session', `b${id}`], cairnEnv, [cairn.pid], 'dist/cairn push'),
    );
    rows.binResync.push(
      timed(
        [BIN, 'push', src, '--session', `b${id}`, '--sync'],
        cairnEnv,
        [cairn.pid],
        'dist/cairn push --sync',
      ),
    );
    binStart.push(timed([BIN, 'version'], cairnEnv, [], 'dist/cairn version'));
    rows.cairnPull.push(
      timed(['node', CLI, 'pull', `s${id}`, '-o', out('c')], cairnEnv, [cairn.pid], 'cairn pull'),
    );
    rows.awsPull.push(
      timed(
        aws('s3', 'sync', `s3://bench/aws-${id}/`, out('a')),
        s3env,
        cephPids,
        'aws s3 sync down',
      ),
    );
    rows.rclonePull.push(
      timed(
        ['rclone', 'copy', `rgw:bench/rc-${id}`, out('r')],
        s3env,
        cephPids,
        'rclone copy down',
      ),
    );
  }
  const sum = (xs) => {
    const wall = median(xs.map((x) => x.wall));
    return {
      files_per_s: round(n / wall, 0),
      wall_s: round(wall, 2),
      client_cpu_ms_per_file: round((median(xs.map((x) => x.client)) * 1000) / n, 3),
      server_cpu_ms_per_file: round((median(xs.map((x) => x.server)) * 1000) / n, 3),
    };
  };
  const s = Object.fromEntries(Object.entries(rows).map(([k, v]) => [k, sum(v)]));
  const bestPush = Math.max(s.aws.files_per_s, s.rclone.files_per_s);
  const bestPull = Math.max(s.awsPull.files_per_s, s.rclonePull.files_per_s);
  results[n] = {
    ...s,
    push_ratio: round(s.cairn.files_per_s / bestPush),
    pull_ratio: round(s.cairnPull.files_per_s / bestPull),
    resync_speedup: round(s.cairn.wall_s / s.resync.wall_s, 1),
    resync_client_cpu_s: round(median(rows.resync.map((x) => x.client)), 3),
    node_start: startFigures(nodeStart),
    binary: {
      resync_speedup: round(s.binPush.wall_s / s.binResync.wall_s, 1),
      resync_client_cpu_s: round(median(rows.binResync.map((x) => x.client)), 3),
      start: startFigures(binStart),
    },
  };
  console.log(n, JSON.stringify(results[n]));
  const speedup = results[n].resync_speedup;
  const met = (x) => `target ≥ 10×: ${x >= 10 ? 'met' : 'NOT met'}`;
  console.log(
    `${n}: re-push of the unchanged tree ${speedup}× faster than the first push (${met(speedup)})`,
  );
  const binSpeedup = results[n].binary.resync_speedup;
  console.log(`${n}: the same through dist/cairn: ${binSpeedup}× (${met(binSpeedup)})`);
}
await cairn.stop();
record('dirs', {
  peers: {
    aws: spawnSync(AWS, ['--version'], { encoding: 'utf8' }).stdout.trim(),
    rclone: spawnSync('rclone', ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0],
  },
  load_before: loadBefore,
  store: QUICK ? 'memstore' : 'bluestore',
  rounds: ROUNDS,
  results,
});
fs.rmSync(base, { recursive: true, force: true });

/** Median wall and CPU seconds of a process that only starts (and stops). */
function startFigures(xs) {
  return {
    wall_s: round(median(xs.map((x) => x.wall)), 3),
    cpu_s: round(median(xs.map((x) => x.client)), 3),
  };
}

function minSec(t) {
  const m = /^(\d+)m([\d.]+)s$/.exec(t);
  return m ? Number(m[1]) * 60 + Number(m[2]) : NaN;
}
