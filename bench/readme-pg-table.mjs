// The README "PostgreSQL catalog vs SQLite" table, from bench/out/pg-push.json and
// pg-query.json (bench/pg-push.mjs, bench/pg-query.mjs); readme-table.mjs writes it between the
// <!-- bench-pg:begin --> and <!-- bench-pg:end --> markers.

/** The table's Markdown, or null when neither result exists. `read(name)` gives a result. */
export function pgTable(read) {
  const push = read('pg-push');
  const query = read('pg-query');
  if (!push && !query) return null;
  const rows = [];
  const row = (what, sqlite, postgres, ratio, target, pass, r) =>
    rows.push(
      `| ${what} | ${sqlite} | ${postgres} | ${ratio} | ${target} | ${pass === null ? '–' : pass ? 'met' : '**not met**'} | ${r.date.slice(0, 10)} | ${r.load_before.loadavg1} |`,
    );
  const x = (a, b) => `${(a / b).toFixed(2)}×`;
  if (push) {
    const cpu = (s) =>
      `${s.server_cpu_ms_per_push} ms server CPU/push${s.postgres_cpu_ms_per_push !== undefined ? ` (cairn ${s.cairn_cpu_ms_per_push} + postgres ${s.postgres_cpu_ms_per_push})` : ''}`;
    const side = (s) =>
      `${s.rps} pushes/s (rounds ${s.rps_range.join('–')}), p99 ${s.p99_ms} ms, ${cpu(s)}`;
    const trips = (s) =>
      `; ${s.commits_per_push} commits + ${s.rollbacks_per_push} serialization rollbacks, ${s.statements_per_push} statements per push`;
    for (const [what, s] of [
      ['durable push, distinct 1 KiB, wrk -t2 -c64, one session', push],
      ['the same, each push a new session', push.session_per_push],
    ])
      row(
        what,
        side(s.sqlite),
        side(s.postgres) + trips(s.postgres),
        x(s.postgres.rps, s.sqlite.rps),
        '–',
        null,
        push,
      );
    row(
      'time to ready, empty store (spawn → first /healthz 200)',
      `${push.sqlite.ready_ms_median} ms`,
      `${push.postgres.ready_ms_median} ms`,
      x(push.postgres.ready_ms_median, push.sqlite.ready_ms_median),
      '–',
      null,
      push,
    );
  }
  if (query) {
    const n = query.artifacts.toLocaleString('en-US');
    for (const [name, v] of Object.entries(query.in_process)) {
      const h = query.http[name];
      const isPair = name.includes('pair');
      const side = (s) =>
        `in-process p50 ${v[s].p50_ms} / p99 ${v[s].p99_ms} ms; HTTP p50 ${h[s].p50_ms} / p99 ${h[s].p99_ms} ms`;
      const plan = query.explain?.[name];
      const scans = plan?.seq_scans.length
        ? ` (plan reads ${plan.seq_scans.join(', ')} whole)`
        : '';
      row(
        `${name}, newest 50, ${n} artifacts`,
        side('sqlite'),
        side('postgres') + scans,
        `HTTP p99 ${x(h.postgres.p99_ms, h.sqlite.p99_ms)}`,
        isPair ? 'p99 ≤ 10 ms HTTP' : '–',
        isPair ? h.postgres.p99_ms <= 10 : null,
        query,
      );
    }
    row(
      `time to ready with ${n} artifacts`,
      `${query.ready_ms.sqlite.median} ms`,
      `${query.ready_ms.postgres.median} ms`,
      x(query.ready_ms.postgres.median, query.ready_ms.sqlite.median),
      '–',
      null,
      query,
    );
  }
  const any = push ?? query;
  return [
    `PostgreSQL 15 started by the benchmark in durable mode (fsync, synchronous_commit on), same machine; blobs in the local dir for both.`,
    ...(any.quick
      ? ['', '**Quick run (tiny sizes): these figures only show the benchmarks work.**']
      : []),
    '',
    '| what | SQLite | PostgreSQL | PostgreSQL ÷ SQLite | target (PostgreSQL) | | date | load |',
    '|---|---|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}
