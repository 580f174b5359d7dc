#!/usr/bin/env node
/* global Buffer */
// Large push and get: curl -T of a 1 GiB file and curl -o /dev/null of it, Cairn (default
// durability) against nginx (WebDAV PUT, sendfile GET), interleaved A B A B; MB/s and ratios.
// Each round also times `dd conv=fsync` of the same file on the same filesystem: the rate at
// which this disk makes 1 GiB durable, the ceiling of any push that fsyncs before its 2xx
// (nginx does not fsync, so its PUT runs at page-cache speed).
import { spawnSync } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { closeSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import {
  QUICK,
  median,
  record,
  round,
  startCairn,
  startNginx,
  tempDir,
  waitForLowLoad,
} from './lib.mjs';

const size = QUICK ? 16 * 1024 ** 2 : Number(process.env.BENCH_LARGE_BYTES ?? 1024 ** 3);
const rounds = QUICK ? 1 : Number(process.env.BENCH_ROUNDS ?? 3);

/** Copies `from` to `to` with dd, fsynced before dd exits; returns MB/s (10^6 bytes/s). */
function durableWrite(from, to) {
  const started = process.hrtime.bigint();
  const r = spawnSync('dd', [`if=${from}`, `of=${to}`, 'bs=1M', 'conv=fsync'], {
    encoding: 'utf8',
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (r.status !== 0) throw new Error(`dd failed: ${r.stderr}`);
  rmSync(to, { force: true });
  return round(size / seconds / 1e6, 0);
}

/** Runs curl; returns MB/s (10^6 bytes per second) and checks the status code. */
function curl(args, want, field) {
  const r = spawnSync(
    'curl',
    ['-sS', '-o', '/dev/null', '-w', `%{http_code} %{${field}}`, ...args],
    {
      encoding: 'utf8',
    },
  );
  const [code, speed] = r.stdout.trim().split(' ');
  if (r.status !== 0 || Number(code) !== want)
    throw new Error(`curl ${args.join(' ')} answered ${code}: ${r.stderr}`);
  return round(Number(speed) / 1e6, 0);
}

const before = await waitForLowLoad();
const work = tempDir('cairn-bench-large-');
const file = join(work, 'big.bin');
const fd = openSync(file, 'w');
const chunk = Buffer.alloc(8 * 1024 ** 2);
for (let done = 0; done < size; done += chunk.length) {
  randomFillSync(chunk);
  writeSync(fd, chunk, 0, Math.min(chunk.length, size - done));
}
closeSync(fd);
const cairn = await startCairn(join(work, 'cairn'));
const nginx = await startNginx(join(work, 'nginx'), 2);
const auth = ['-H', `Authorization: Bearer ${cairn.token}`];
const runs = { cairn: { put: [], get: [] }, nginx: { put: [], get: [] }, dd_fsync: [] };
try {
  for (let r = 0; r < rounds; r++) {
    const cUrl = `${cairn.url}/v1/sessions/large/artifacts/big-${r}.bin`;
    const nUrl = `${nginx.url}/dav/big-${r}.bin`;
    runs.cairn.put.push(curl([...auth, '-T', file, cUrl], 201, 'speed_upload'));
    runs.nginx.put.push(curl(['-T', file, nUrl], 201, 'speed_upload'));
    runs.dd_fsync.push(durableWrite(file, join(work, 'dd-copy.bin')));
    runs.cairn.get.push(curl([...auth, cUrl], 200, 'speed_download'));
    runs.nginx.get.push(curl([nUrl], 200, 'speed_download'));
    console.log(`round ${r + 1}: ${JSON.stringify(runs)}`);
    // Keep the disk from filling: each round's copies are no longer needed.
    rmSync(join(work, 'nginx/www/dav', `big-${r}.bin`), { force: true });
  }
} finally {
  await cairn.stop();
  await nginx.stop();
  rmSync(work, { recursive: true, force: true });
}
const result = {
  bytes: size,
  rounds,
  load_before: before,
  cairn: { put_MBps: median(runs.cairn.put), get_MBps: median(runs.cairn.get) },
  nginx: { put_MBps: median(runs.nginx.put), get_MBps: median(runs.nginx.get) },
  dd_fsync_MBps: median(runs.dd_fsync),
  runs,
};
result.put_ratio = round(result.cairn.put_MBps / result.nginx.put_MBps, 2);
result.get_ratio = round(result.cairn.get_MBps / result.nginx.get_MBps, 2);
result.put_vs_dd_fsync = round(result.cairn.put_MBps / result.dd_fsync_MBps, 2);
console.log(
  `large: PUT cairn ${result.cairn.put_MBps} MB/s vs nginx ${result.nginx.put_MBps} (ratio ${result.put_ratio}), vs dd conv=fsync ${result.dd_fsync_MBps} (ratio ${result.put_vs_dd_fsync}); GET cairn ${result.cairn.get_MBps} vs nginx ${result.nginx.get_MBps} (ratio ${result.get_ratio})`,
);
record('large', result);
