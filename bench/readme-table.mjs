#!/usr/bin/env node
// Regenerates the README "Benchmarks" table from bench/out/*.json (between the
// <!-- bench:begin --> and <!-- bench:end --> markers). Usage: node bench/readme-table.mjs [README]
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { OUT_DIR, ROOT } from './lib.mjs';
import { nodesTable } from './readme-nodes-table.mjs';
import { pgTable } from './readme-pg-table.mjs';

const readme = process.argv[2] ?? join(ROOT, 'README.md');
const read = (name) => {
  const p = join(OUT_DIR, `${name}.json`);
  return fs.existsSync(p) ? JSON.parse(fs.readFileSync(p, 'utf8')) : null;
};
const small = read('small-push');
const ceiling = read('ceiling');
const large = read('large');
const query = read('query');
const mem = read('memory-start');
const dirs = read('dirs');
const any = small ?? ceiling ?? large ?? query ?? mem ?? dirs;
if (!any) throw new Error(`no results in ${OUT_DIR}: run npm run bench first`);

const day = (r) => (r ? r.date.slice(0, 10) : '–');
const ld = (r) => (r ? `${r.load_before.loadavg1}` : '–');
const ok = (pass) => (pass === null ? '–' : pass ? 'met' : '**not met**');
const rows = [];
/**
 * One table row. `peer`, `ratio` and `target` default to '–'; `pass` is null where there is no
 * target; `r` is the result file the row comes from (its date and load are shown).
 */
const row = ({ what, cairn, peer = '–', ratio = '–', target = '–', pass = null, r }) =>
  rows.push(
    `| ${what} | ${cairn} | ${peer} | ${ratio} | ${target} | ${ok(pass)} | ${day(r)} | ${ld(r)} |`,
  );
if (small)
  row({
    what: 'durable push, distinct 1 KiB, wrk -t2 -c64',
    cairn: `${small.cairn.rps} req/s, p99 ${small.cairn.p99_ms} ms, ${small.cairn.req_per_cpu_s} req/CPU-s`,
    peer: `nginx WebDAV PUT (2 workers): ${small.nginx.rps} req/s, p99 ${small.nginx.p99_ms} ms, ${small.nginx.req_per_cpu_s} req/CPU-s`,
    ratio: `${small.ratio}×`,
    target: '≥ 1.0×',
    pass: small.ratio >= 1,
    r: small,
  });
if (ceiling) {
  // Reference servers, not Cairn: where the small-push target stands (bench/ceiling.mjs).
  const c = ceiling;
  const busiest = (r) => `busiest thread ${r.busiest_thread_us_per_push} µs/push`;
  const peer = `Cairn in the same run: ${c.cairn.rps} req/s, ${busiest(c.cairn)} (nginx: the row above)`;
  for (const [what, r] of [
    ['reference, not Cairn: durable append log + fdatasync, no catalog', c.log],
    ["reference, not Cairn: Cairn's SQLite catalog on a writer thread, minimal HTTP", c.row],
  ])
    row({
      what,
      cairn: `${r.rps} req/s, p99 ${r.p99_ms} ms, ${busiest(r)}`,
      peer,
      ratio: `${r.to_cairn}× Cairn`,
      r: c,
    });
}
if (large) {
  const gib = (large.bytes / 1024 ** 3).toFixed(large.bytes >= 1024 ** 3 ? 0 : 2);
  const ceiling =
    large.dd_fsync_MBps !== undefined
      ? `; dd conv=fsync of the same file (buffered, then fsync): ${large.dd_fsync_MBps} MB/s, Cairn ${large.put_vs_dd_fsync}× of it`
      : '';
  row({
    what: `push one ${gib} GiB artifact (curl -T)`,
    cairn: `${large.cairn.put_MBps} MB/s`,
    peer: `nginx PUT (no fsync): ${large.nginx.put_MBps} MB/s${ceiling}`,
    ratio: `${large.put_ratio}×`,
    target: '≥ 1.0×',
    pass: large.put_ratio >= 1,
    r: large,
  });
  row({
    what: `download one ${gib} GiB artifact`,
    // A durable push is written with O_DIRECT: its first download reads the disk, not the cache.
    cairn: `${large.cairn.get_MBps} MB/s (median; the first, right after its push, from disk: ${large.runs.cairn.get[0]} MB/s)`,
    peer: `nginx sendfile: ${large.nginx.get_MBps} MB/s (its first from the page cache: ${large.runs.nginx.get[0]} MB/s)`,
    ratio: `${large.get_ratio}×`,
    target: '≥ 0.9×',
    pass: large.get_ratio >= 0.9,
    r: large,
  });
}
if (query) {
  const n = query.artifacts.toLocaleString('en-US');
  for (const [name, v] of Object.entries(query.in_process)) {
    const h = query.http[name];
    const isPair = name.includes('pair');
    row({
      what: `${name}, newest 50, ${n} artifacts`,
      cairn: `in-process p50 ${v.p50_ms} / p99 ${v.p99_ms} ms${v.first_ms !== undefined ? ` (first run ${v.first_ms} ms)` : ''}; HTTP p50 ${h.p50_ms} / p99 ${h.p99_ms} ms`,
      target: isPair ? 'p99 ≤ 5 ms in-process, ≤ 10 ms HTTP' : '–',
      pass: isPair ? v.p99_ms <= 5 && h.p99_ms <= 10 : null,
      r: query,
    });
  }
}
if (mem) {
  const gib = (mem.upload.bytes / 1024 ** 3).toFixed(mem.upload.bytes >= 1024 ** 3 ? 0 : 2);
  const n = mem.start.artifacts.toLocaleString('en-US');
  for (const [what, cairn, target, pass] of [
    [
      `RSS while streaming a ${gib} GiB upload`,
      `${mem.upload.peak_rss_MiB} MiB (${mem.upload.MBps} MB/s)`,
      '≤ 150 MiB',
      mem.upload.peak_rss_MiB <= 150,
    ],
    [
      `RSS with ${n} artifacts (idle / after queries)`,
      `${mem.start.rss_idle_MiB} / ${mem.start.rss_after_queries_MiB} MiB`,
      '≤ 250 MiB',
      mem.start.rss_after_queries_MiB <= 250,
    ],
    [
      `time to ready with ${n} artifacts`,
      `${mem.start.ready_ms_median} ms`,
      '≤ 500 ms',
      mem.start.ready_ms_median <= 500,
    ],
    [
      `dedupe: ${mem.dedupe.pushes} pushes of the same bytes`,
      `${mem.dedupe.stored_blobs} blob stored`,
      '1 blob',
      mem.dedupe.stored_blobs === 1,
    ],
  ])
    row({ what, cairn, target, pass, r: mem });
}
if (dirs) {
  for (const [n, r] of Object.entries(dirs.results)) {
    const count = Number(n).toLocaleString('en-US');
    const cpu = (x) =>
      `client ${x.client_cpu_ms_per_file} + server ${x.server_cpu_ms_per_file} CPU-ms/file`;
    const peers = (a, b) =>
      `aws s3 sync ${a.files_per_s} files/s (${cpu(a)}); rclone copy ${b.files_per_s} files/s (${cpu(b)}); radosgw ${dirs.store}`;
    // Each row: what, Cairn's figure, the peers' figures, the ratio, the "× …" word, its minimum.
    for (const [what, cairn, peer, ratio, times, min] of [
      [
        `push a directory of ${count} ~1 KiB files (cairn push DIR)`,
        `${r.cairn.files_per_s} files/s (${cpu(r.cairn)})`,
        peers(r.aws, r.rclone),
        r.push_ratio,
        'the faster',
        3,
      ],
      [
        `pull it back (cairn pull SESSION -o DIR)`,
        `${r.cairnPull.files_per_s} files/s (${cpu(r.cairnPull)})`,
        peers(r.awsPull, r.rclonePull),
        r.pull_ratio,
        'the faster',
        2,
      ],
      [
        `re-push the unchanged ${count} files (--sync)`,
        `${r.resync.wall_s} s (first push ${r.cairn.wall_s} s)`,
        '–',
        r.resync_speedup,
        'faster',
        10,
      ],
      // The same through the single binary (Node 22), when the run measured it.
      ...(r.binResync
        ? [
            [
              `re-push the unchanged ${count} files (--sync), single binary dist/cairn`,
              `${r.binResync.wall_s} s (first push ${r.binPush.wall_s} s)`,
              '–',
              r.binary.resync_speedup,
              'faster',
              10,
            ],
          ]
        : []),
    ])
      row({
        what,
        cairn,
        peer,
        ratio: `${ratio}× ${times}`,
        target: `≥ ${min}×`,
        pass: ratio >= min,
        r: dirs,
      });
  }
}
const m = any.machine;
const table = [
  `Measured on ${m.cores} cores (${m.cpu}), ${m.fs} filesystem, Node ${m.node}; servers on loopback.`,
  'Load is the 1-minute load average just before the run (other work shared the machine).',
  ...(any.quick
    ? ['', '**Quick run (tiny sizes): these figures only show the benchmarks work.**']
    : []),
  '',
  '| what | Cairn | peer | ratio | target | | date | load |',
  '|---|---|---|---|---|---|---|---|',
  ...rows,
].join('\n');

const text = fs.readFileSync(readme, 'utf8');
const begin = '<!-- bench:begin -->';
const end = '<!-- bench:end -->';
const i = text.indexOf(begin);
const j = text.indexOf(end);
if (i === -1 || j < i) throw new Error(`${readme} has no ${begin} … ${end} markers`);
let out = `${text.slice(0, i + begin.length)}\n${table}\n${text.slice(j)}`;
// The PostgreSQL-vs-SQLite table (bench/pg-push.mjs, bench/pg-query.mjs), when measured.
const pg = pgTable(read);
const [pgBegin, pgEnd] = ['<!-- bench-pg:begin -->', '<!-- bench-pg:end -->'];
const pi = out.indexOf(pgBegin);
const pj = out.indexOf(pgEnd);
if (pg && pi !== -1 && pj > pi)
  out = `${out.slice(0, pi + pgBegin.length)}\n${pg}\n${out.slice(pj)}`;
// Several nodes on one store (bench/nodes.mjs), when measured.
const nodes = nodesTable(read);
const [nodesBegin, nodesEnd] = ['<!-- bench-nodes:begin -->', '<!-- bench-nodes:end -->'];
const ni = out.indexOf(nodesBegin);
const nj = out.indexOf(nodesEnd);
if (nodes && ni !== -1 && nj > ni)
  out = `${out.slice(0, ni + nodesBegin.length)}\n${nodes}\n${out.slice(nj)}`;
fs.writeFileSync(readme, out);
// Formatted as the repository's Prettier formats Markdown (aligned table), so the check passes.
spawnSync(join(ROOT, 'node_modules/.bin/prettier'), ['--write', readme], { stdio: 'ignore' });
console.log(`updated ${readme}`);
