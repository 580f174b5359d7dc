/* global performance, fetch */
// Shared helpers for the benchmarks: start Cairn and nginx on loopback, read a process's CPU
// time and memory, run wrk, summarise samples, record results under bench/out/.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root. */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** Where each benchmark writes its JSON result (override with BENCH_OUT). */
export const OUT_DIR = process.env.BENCH_OUT ?? join(ROOT, 'bench/out');
/** `--quick`: tiny sizes and short runs, to check the benchmarks themselves work. */
export const QUICK = process.argv.includes('--quick') || process.env.BENCH_QUICK === '1';

/** A fresh temp directory on the same filesystem as /tmp. */
export function tempDir(prefix) {
  return fs.mkdtempSync(join(process.env.BENCH_TMP ?? tmpdir(), prefix));
}

/** Median of numbers. */
export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** The p-th percentile (0..100) of numbers, nearest rank. */
export function percentile(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

/** 1-minute load average and core count, to say under what load a figure was taken. */
export function load() {
  return { loadavg1: Number(loadavg()[0].toFixed(2)), cores: cpus().length };
}

/** Waits until the 1-minute load is at most `max` (or `timeoutMs` passes); returns the load. */
export async function waitForLowLoad(
  max = 1.0,
  timeoutMs = QUICK ? 0 : Number(process.env.BENCH_MAX_WAIT_S ?? 120) * 1000,
) {
  const until = Date.now() + timeoutMs;
  while (loadavg()[0] > max && Date.now() < until) await sleep(5000);
  return load();
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The machine: cores, CPU model, filesystem type of the temp dir, Node and SQLite. */
export function machine() {
  const dir = process.env.BENCH_TMP ?? tmpdir();
  const df = spawnSync('df', ['-T', dir], { encoding: 'utf8' }).stdout.split('\n')[1] ?? '';
  return {
    cores: cpus().length,
    cpu: cpus()[0]?.model ?? 'unknown',
    fs: df.split(/\s+/)[1] ?? 'unknown',
    node: process.version,
  };
}

/** user+system CPU seconds of a process and all its descendants (threads included). */
export function cpuSeconds(pid) {
  let total = 0;
  for (const p of [pid, ...descendants(pid)]) total += statCpuSeconds(`/proc/${p}/stat`);
  return total;
}

/**
 * user+system CPU seconds of each thread of a process and its descendants (nginx's workers),
 * keyed by thread id.
 */
export function threadCpuSeconds(pid) {
  const out = new Map();
  for (const p of [pid, ...descendants(pid)]) {
    let tasks = [];
    try {
      tasks = fs.readdirSync(`/proc/${p}/task`);
    } catch {
      // the process ended
    }
    for (const t of tasks) out.set(t, statCpuSeconds(`/proc/${p}/task/${t}/stat`));
  }
  return out;
}

/** utime + stime of a /proc stat file in seconds; 0 once the process or thread ended. */
function statCpuSeconds(path) {
  try {
    const stat = fs.readFileSync(path, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // USER_HZ on Linux
  } catch {
    return 0;
  }
}

function descendants(pid) {
  const out = [];
  let kids = [];
  try {
    for (const t of fs.readdirSync(`/proc/${pid}/task`)) {
      const c = fs.readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').trim();
      if (c) kids.push(...c.split(' ').map(Number));
    }
  } catch {
    return out;
  }
  for (const k of kids) out.push(k, ...descendants(k));
  return out;
}

/** Resident set size of a process in MiB. */
export function rssMiB(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}

/**
 * Starts `cairn serve` (the built CLI) on a free loopback port over `dataDir`. Resolves once it
 * prints its address, with the ms that took, its admin token and a stop() that waits for exit.
 */
export async function startCairn(dataDir, args = []) {
  const srv = await startListening([
    join(ROOT, 'bin/cairn.js'),
    'serve',
    '--port',
    '0',
    '--data',
    dataDir,
    ...args,
  ]);
  const token = fs.readFileSync(join(dataDir, 'admin.token'), 'utf8').trim();
  return { ...srv, token };
}

/**
 * Runs `node <args>` and resolves once it prints `listening on <url>`: its pid, url, the ms
 * that took and a stop() that sends SIGTERM and waits for the exit.
 */
export async function startListening(args) {
  const t0 = performance.now();
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  const url = await new Promise((res, rej) => {
    child.stdout.on('data', (d) => {
      out += d;
      const m = /listening on (\S+)/.exec(out);
      if (m) res(m[1].replace(/\/$/, ''));
    });
    child.on('exit', (code) => rej(new Error(`${args[0]} exited with ${code}: ${out} ${err}`)));
  });
  const readyMs = performance.now() - t0;
  const exited = new Promise((r) => child.on('exit', r));
  return {
    pid: child.pid,
    url,
    readyMs,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** A free loopback TCP port. */
export async function freePort() {
  const net = await import('node:net');
  return new Promise((res) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

/**
 * Starts Debian's nginx with WebDAV PUT under `root` (`/dav/…`), `workers` worker processes,
 * the body temp path on the same filesystem, sendfile on. Resolves when it accepts requests.
 */
export async function startNginx(root, workers = 2) {
  const port = await freePort();
  const conf = join(root, 'nginx.conf');
  fs.mkdirSync(join(root, 'www/dav'), { recursive: true });
  fs.mkdirSync(join(root, 'body'), { recursive: true });
  const user = process.getuid?.() === 0 ? 'user root root;' : '';
  fs.writeFileSync(
    conf,
    `${user}
worker_processes ${workers};
daemon off;
pid ${root}/nginx.pid;
error_log ${root}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  client_body_temp_path ${root}/body;
  proxy_temp_path ${root}/body; fastcgi_temp_path ${root}/body; uwsgi_temp_path ${root}/body; scgi_temp_path ${root}/body;
  server {
    listen 127.0.0.1:${port};
    root ${root}/www;
    location /dav/ {
      dav_methods PUT;
      create_full_put_path on;
      client_max_body_size 0;
    }
  }
}
`,
  );
  const child = spawn('nginx', ['-c', conf, '-p', root, '-e', join(root, 'error.log')], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const exited = new Promise((r) => child.on('exit', r));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    try {
      await fetch(`${url}/`);
      break;
    } catch {
      await sleep(50);
    }
  }
  return {
    pid: child.pid,
    url,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/**
 * Runs wrk and parses requests/s, p99 latency (ms) and non-2xx count. `timeout` (s) is wrk's
 * per-request timeout (its default, 2 s, drops slower answers from the count).
 */
export function wrk({
  url,
  script,
  threads = 2,
  connections = 64,
  seconds = 10,
  timeout = 2,
  args = [],
}) {
  const r = spawnSync(
    'wrk',
    [
      `-t${threads}`,
      `-c${connections}`,
      `-d${seconds}s`,
      `--timeout`,
      `${timeout}s`,
      '--latency',
      '-s',
      script,
      url,
      '--',
      ...args,
    ],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`wrk failed: ${r.stderr}`);
  const text = r.stdout;
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(text)?.[1] ?? NaN);
  const p99 = toMs(/\s99%\s+([\d.]+\w+)/.exec(text)?.[1]);
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(text)?.[1] ?? 0);
  const errors = /Socket errors:.*/.exec(text)?.[0] ?? '';
  const requests = Number(/(\d+) requests in/.exec(text)?.[1] ?? 0);
  return { rps, p99, non2xx, errors, requests, text };
}

function toMs(v) {
  if (!v) return NaN;
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(v);
  if (!m) return NaN;
  const n = Number(m[1]);
  return { us: n / 1000, ms: n, s: n * 1000, m: n * 60000 }[m[2]];
}

/** Writes `bench/out/<name>.json` with the machine, load and date added; returns the path. */
export function record(name, result) {
  fs.mkdirSync(OUT_DIR, { recursive: true });
  const path = join(OUT_DIR, `${name}.json`);
  const doc = { name, date: new Date().toISOString(), quick: QUICK, machine: machine(), ...result };
  fs.writeFileSync(path, `${JSON.stringify(doc, null, 2)}\n`);
  console.log(`wrote ${path}`);
  return path;
}

/** Rounds to `d` decimals. */
export const round = (x, d = 2) => Number(Number(x).toFixed(d));

/**
 * Starts a single-node Ceph with radosgw (scripts/engines/ceph-start.sh; memstore in quick
 * mode, else bluestore on an 8 GiB sparse file) under a short /tmp path (Ceph's admin sockets
 * must stay under 108 bytes). Its daemons are killed and its directory removed when this
 * process exits, whatever happens. Returns the S3 endpoint and the daemons' pids (for CPU),
 * also as `daemons` ({ name, pid }: mon.a, osd.0, client.rgw.a) to tell them apart.
 */
export async function startRadosgw() {
  // Ports are picked free and bound a moment later by Ceph: another process (a test suite
  // running beside) may take one meanwhile, and the start fails. A few tries, each afresh.
  for (let attempt = 1; ; attempt++) {
    const dir = fs.mkdtempSync('/tmp/cairn-ceph-');
    const rgwPort = await freePort();
    const ceph = spawnSync(
      'bash',
      [
        join(ROOT, 'scripts/engines/ceph-start.sh'),
        join(dir, 'c'),
        String(await freePort()),
        String(rgwPort),
        QUICK ? 'memstore' : 'bluestore',
      ],
      { encoding: 'utf8', env: { ...process.env, BLOCK_SIZE: '8G' } },
    );
    if (ceph.status === 0) return radosgwStarted(dir, rgwPort, ceph.stdout);
    killPidFiles(join(dir, 'c', 'run'));
    fs.rmSync(dir, { recursive: true, force: true });
    if (attempt === 3) throw new Error(`ceph did not start: ${ceph.stdout}${ceph.stderr}`);
    console.log(`ceph did not start (try ${attempt}): ${ceph.stderr.trim().split('\n').pop()}`);
  }
}

/** Kills the daemons whose pid files are in `runDir` (a failed start's). */
function killPidFiles(runDir) {
  let names = [];
  try {
    names = fs.readdirSync(runDir).filter((n) => n.endsWith('.pid'));
  } catch {
    return;
  }
  for (const n of names) {
    try {
      process.kill(Number(fs.readFileSync(join(runDir, n), 'utf8').trim()), 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

/** The started Ceph's endpoint and daemons, killed (and `dir` removed) when this process exits. */
function radosgwStarted(dir, rgwPort, stdout) {
  console.log(stdout.split('\n')[0]);
  const daemons = [...stdout.matchAll(/^(\S+) pid (\d+)$/gm)].map((m) => ({
    name: m[1],
    pid: Number(m[2]),
  }));
  const pids = daemons.map((d) => d.pid);
  process.on('exit', () => {
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return { endpoint: `http://127.0.0.1:${rgwPort}`, pids, daemons };
}
