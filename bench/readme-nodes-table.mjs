// The README "Several nodes, one store" table, from bench/out/nodes.json (bench/nodes.mjs);
// readme-table.mjs writes it between the <!-- bench-nodes:begin --> and
// <!-- bench-nodes:end --> markers.

const PHASES = {
  push_1k: 'durable push, distinct 1 KiB (inline in the catalog)',
  push_128k: 'durable push, distinct 128 KiB (one radosgw object)',
  query: 'two-key metadata query, newest 50',
};

/** The table's Markdown, or null when there is no result. `read(name)` gives a result. */
export function nodesTable(read) {
  const r = read('nodes');
  if (!r) return null;
  const rows = [];
  for (const [phase, what] of Object.entries(PHASES))
    for (const [n, byPhase] of Object.entries(r.nodes)) {
      const s = byPhase[phase];
      const c = Object.fromEntries(Object.entries(s.cpu_us).map(([k, v]) => [k, Math.round(v)]));
      const pg = s.pg;
      const d = (x, n = 2) => Number(x.toFixed(n));
      const failed = s.statuses?.['5xx'] ? `; **${s.statuses['5xx']} answered 5xx**` : '';
      const path =
        (s.path
          ? `; ${s.path.inline_rows} inline rows, ${s.path.s3_objects} S3 objects`
          : `; ${s.results} results`) + failed;
      rows.push(
        `| ${what} | ${n} | ${s.rps} (${s.rps_range.join('–')}) | ${Math.round(s.p99_ms)} | ${c.cairn} | ${c.postgres} | ${c.radosgw} + ${c.ceph} | ${c.server_total} | ${d(pg.statements, 1)} stmts, ${d(pg.write_xacts)} write xacts, ${d(pg.commits, 1)} commits, ${d(pg.rollbacks)} rollbacks, ${d(pg.wal_syncs)} WAL fsyncs, ${Math.round(pg.wal_bytes)} WAL bytes${path} | ${c.postgres > 0 ? Math.round(1e6 / c.postgres) : '–'} |`,
      );
    }
  const idle = r.idle
    ? ` Idle, ${r.idle.nodes} nodes cost ${r.idle.cpu_ms_per_s.cairn} CPU-ms/s in the nodes, ${r.idle.cpu_ms_per_s.postgres} in postgres and ${r.idle.statements_per_s} statements/s.`
    : '';
  return [
    `PostgreSQL 15 (durable) and ${r.s3_store}, both started by the benchmark; ${r.wrk}; median of ${r.rounds} round(s); ${r.date.slice(0, 10)}, load ${r.load_before.loadavg1} before the run.${idle}`,
    ...(r.quick
      ? ['', '**Quick run (tiny sizes): these figures only show the benchmark works.**']
      : []),
    '',
    '| what | nodes | requests/s (rounds) | p99 ms | CPU-µs/request: nodes | postgres | radosgw + mon/OSD | all servers | PostgreSQL per request | requests/s per PostgreSQL core |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}
