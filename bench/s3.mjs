#!/usr/bin/env node
/* global Buffer, URLSearchParams, performance, setInterval, clearInterval */
// Large artifacts on S3, side by side in one run against one real Ceph radosgw that this script
// starts (bluestore; memstore with --quick): a 1 GiB push and download through Cairn
// (`cairn serve --blobs s3://…`, curl -T with Content-Digest / curl -o /dev/null) against
// `aws s3 cp` of the same file straight to radosgw, interleaved A B A B; MB/s, ratios, and
// Cairn's peak RSS during the push (memory must stay bounded whatever the size).
// Writes bench/out/s3.json.
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomFillSync } from 'node:crypto';
import * as fs from 'node:fs';
import { join } from 'node:path';
import {
  QUICK,
  cpuSeconds,
  startRadosgw,
  median,
  record,
  round,
  rssMiB,
  startCairn,
  tempDir,
  waitForLowLoad,
} from './lib.mjs';

const SIZE = QUICK ? 32 * 1024 ** 2 : Number(process.env.BENCH_S3_BYTES ?? 1024 ** 3);
const ROUNDS = QUICK ? 1 : Number(process.env.BENCH_ROUNDS ?? 3);
const KEY = 'CAIRNTESTACCESSKEY01';
const SECRET = 'cairn-test-secret-key-0123456789abcdef';
const AWS = fs.existsSync('/usr/bin/aws') ? '/usr/bin/aws' : 'aws';
const base = tempDir('cairn-bench-s3-');

const { endpoint } = await startRadosgw();
Object.assign(process.env, {
  AWS_ACCESS_KEY_ID: KEY,
  AWS_SECRET_ACCESS_KEY: SECRET,
  AWS_DEFAULT_REGION: 'us-east-1',
});
const aws = (...args) => [AWS, '--endpoint-url', endpoint, ...args];
const mb = spawnSync('bash', ['-c', '"$@"', 'bash', ...aws('s3', 'mb', 's3://bench')], {
  encoding: 'utf8',
});
if (mb.status !== 0) throw new Error(`aws s3 mb failed: ${mb.stderr}`);

const q = new URLSearchParams({ endpoint, region: 'us-east-1', force_path_style: 'true' });
const cairn = await startCairn(join(base, 'data'), ['--blobs', `s3://bench/cairn?${q}`]);

/**
 * Runs a command; resolves with its wall seconds, its own CPU seconds, and the peak RSS and
 * CPU seconds of `watchPid` (Cairn) meanwhile.
 */
function timed(argv, watchPid) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const cpu0 = watchPid ? cpuSeconds(watchPid) : 0;
    let peak = 0;
    const sample = () => (peak = Math.max(peak, watchPid ? rssMiB(watchPid) : 0));
    const timer = setInterval(sample, 20);
    const child = spawn('bash', ['-c', '"$@" >/dev/null || exit $?; times', 'bash', ...argv], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    let out = '';
    child.stderr.on('data', (d) => (err += d));
    child.stdout.on('data', (d) => (out += d));
    child.on('exit', (code) => {
      clearInterval(timer);
      sample();
      if (code !== 0) reject(new Error(`${argv.join(' ')} failed (${code}): ${err}`));
      else {
        // `times`: the shell's user/sys, then its children's (the command).
        const [u, sy] = out.trim().split('\n').at(-1).split(/\s+/).map(minSec);
        resolve({
          seconds: (performance.now() - t0) / 1000,
          peakRss: peak,
          clientCpu: u + sy,
          serverCpu: watchPid ? cpuSeconds(watchPid) - cpu0 : 0,
        });
      }
    });
  });
}

const MB = (s) => round(SIZE / s / 1e6, 0);
const file = join(base, 'big.bin');
const rows = { cairnPush: [], awsPush: [], cairnGet: [], awsGet: [], rss: [], cpu: [] };
const loadBefore = await waitForLowLoad();
for (let r = 0; r < ROUNDS; r++) {
  // Fresh bytes every round: Cairn would otherwise dedupe the second push.
  const fd = fs.openSync(file, 'w');
  const chunk = Buffer.alloc(8 * 1024 ** 2);
  const hash = createHash('sha256');
  for (let done = 0; done < SIZE; done += chunk.length) {
    randomFillSync(chunk);
    const part = chunk.subarray(0, Math.min(chunk.length, SIZE - done));
    hash.update(part);
    fs.writeSync(fd, part);
  }
  fs.closeSync(fd);
  const digest = `sha-256=:${hash.digest('base64')}:`;
  await waitForLowLoad();
  const url = `${cairn.url}/v1/sessions/bench/artifacts/big-${r}.bin`;
  const auth = `Authorization: Bearer ${cairn.token}`;
  const idleRss = rssMiB(cairn.pid);
  const push = await timed(
    ['curl', '-sSf', '-T', file, '-H', auth, '-H', `Content-Digest: ${digest}`, url],
    cairn.pid,
  );
  rows.cairnPush.push(push.seconds);
  rows.rss.push({ idle: round(idleRss, 0), peak: round(push.peakRss, 0) });
  const awsPush = await timed(aws('s3', 'cp', file, `s3://bench/aws-${r}.bin`));
  rows.awsPush.push(awsPush.seconds);
  const get = await timed(['curl', '-sSf', '-o', '/dev/null', '-H', auth, url], cairn.pid);
  rows.cairnGet.push(get.seconds);
  const awsGet = await timed(aws('s3', 'cp', `s3://bench/aws-${r}.bin`, '-'));
  rows.awsGet.push(awsGet.seconds);
  // CPU seconds per GiB: Cairn's process against the aws CLI's (both hash, sign and send).
  const perGiB = (x) => round((x * 1024 ** 3) / SIZE, 2);
  rows.cpu.push({
    push: { cairn: perGiB(push.serverCpu), aws: perGiB(awsPush.clientCpu) },
    get: { cairn: perGiB(get.serverCpu), aws: perGiB(awsGet.clientCpu) },
  });
  console.log(
    `round ${r}: push cairn ${MB(push.seconds)} MB/s aws ${MB(rows.awsPush.at(-1))} MB/s; ` +
      `get cairn ${MB(rows.cairnGet.at(-1))} MB/s aws ${MB(rows.awsGet.at(-1))} MB/s; ` +
      `cairn RSS ${rows.rss.at(-1).idle} -> peak ${rows.rss.at(-1).peak} MiB; ` +
      `CPU-s/GiB ${JSON.stringify(rows.cpu.at(-1))}`,
  );
}
await cairn.stop();
const result = {
  peer: spawnSync(AWS, ['--version'], { encoding: 'utf8' }).stdout.trim(),
  store: QUICK ? 'memstore' : 'bluestore',
  bytes: SIZE,
  rounds: ROUNDS,
  load_before: loadBefore,
  push_MBps: { cairn: MB(median(rows.cairnPush)), aws: MB(median(rows.awsPush)) },
  get_MBps: { cairn: MB(median(rows.cairnGet)), aws: MB(median(rows.awsGet)) },
  cairn_rss_MiB: rows.rss,
  cpu_s_per_GiB: rows.cpu,
};
result.push_ratio = round(result.push_MBps.cairn / result.push_MBps.aws);
result.get_ratio = round(result.get_MBps.cairn / result.get_MBps.aws);
console.log(JSON.stringify(result));
record('s3', result);
fs.rmSync(base, { recursive: true, force: true });

function minSec(t) {
  const m = /^(\d+)m([\d.]+)s$/.exec(t);
  return m ? Number(m[1]) * 60 + Number(m[2]) : NaN;
}
