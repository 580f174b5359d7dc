import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readmeShellBlocks } from '../docs/readme-blocks.js';
import { ROOT, tempDir } from '../helpers/server.js';

const work = tempDir('cairn-bench-test-');
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Every benchmark's JSON result. */
const NAMES = [
  'small-push',
  'ceiling',
  'large',
  'query',
  'memory-start',
  'dirs',
  'pg-push',
  'pg-query',
  'nodes',
];

interface SmallPush {
  cairn: { rps: number };
  nginx: { rps: number };
  runs: { cairn: { non2xx: number }[] };
}
type CeilingServer = { rps: number; busiest_thread_us_per_push: number };
interface Ceiling {
  cairn: CeilingServer;
  row: CeilingServer;
  log: CeilingServer;
  runs: Record<'cairn' | 'row' | 'log', { non2xx: number }[]>;
}
interface Large {
  dd_fsync_MBps: number;
  put_vs_dd_fsync: number;
}
interface MemoryStart {
  dedupe: { pushes: number; artifacts: number; stored_blobs: number; blob_rows: number };
}
interface Query {
  http: Record<string, unknown>;
  in_process: Record<string, unknown>;
}
interface DirsTool {
  files_per_s: number;
  server_cpu_ms_per_file: number;
}
interface Dirs {
  results: Record<
    string,
    Record<
      'cairn' | 'aws' | 'rclone' | 'cairnPull' | 'awsPull' | 'rclonePull' | 'binPush',
      DirsTool
    > & { binResync: DirsTool }
  >;
}
type PgSide = { rps: number; server_cpu_ms_per_push: number; statements_per_push?: number };
type PgPushRun = Record<'sqlite' | 'postgres', { non2xx: number }[]>;
interface PgPush {
  sqlite: PgSide;
  postgres: PgSide;
  session_per_push: { sqlite: PgSide; postgres: PgSide };
  runs: Record<'one_session' | 'session_per_push', PgPushRun>;
  ready: Record<'sqlite' | 'postgres', number[]>;
}
type PgTimes = Record<'sqlite' | 'postgres', { p99_ms: number; results: number }>;
interface PgQuery {
  in_process: Record<string, PgTimes>;
  http: Record<string, PgTimes>;
  explain: Record<string, { plan: string[] }>;
}
interface NodesPhase {
  counted: number;
  per_node: number[];
  non2xx: number;
  cpu_us: Record<'cairn' | 'postgres' | 'radosgw', number>;
  pg: { statements: number; write_xacts: number };
  path?: { inline_rows: number; s3_objects: number };
  results?: number;
}
interface Nodes {
  nodes: Record<'1' | '2' | '3', Record<'push_1k' | 'push_128k' | 'query', NodesPhase>>;
}
const result = <T>(dir: string, name: string): T =>
  JSON.parse(readFileSync(join(dir, `${name}.json`), 'utf8')) as T;

describe('benchmarks (quick run: real servers, real nginx and wrk, tiny sizes)', () => {
  it('the README shows only commands this test runs', () => {
    const lines = readmeShellBlocks('Benchmarks')
      .join('\n')
      .split('\n')
      .map((l) => l.replace(/#.*/, '').trim())
      .filter(Boolean);
    expect(lines).toEqual([
      'npm run bench',
      'npm run bench -- --quick',
      'node bench/readme-table.mjs',
    ]);
  });

  it('npm run bench -- --quick runs every benchmark and rewrites the README table', () => {
    const readme = join(work, 'README.md');
    copyFileSync(join(ROOT, 'README.md'), readme);
    const out = join(work, 'out');
    const r = spawnSync('npm', ['run', 'bench', '--', '--quick'], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, BENCH_OUT: out, BENCH_README: readme, BENCH_TMP: work },
      timeout: 540_000,
    });
    expect(r.status, r.stderr + r.stdout).toBe(0);
    for (const name of NAMES) expect(existsSync(join(out, `${name}.json`))).toBe(true);
    const small = result<SmallPush>(out, 'small-push');
    expect(small.cairn.rps).toBeGreaterThan(0);
    expect(small.nginx.rps).toBeGreaterThan(0);
    expect(small.runs.cairn[0].non2xx).toBe(0);
    const ceiling = result<Ceiling>(out, 'ceiling');
    for (const name of ['cairn', 'row', 'log'] as const) {
      expect(ceiling[name].rps, name).toBeGreaterThan(0);
      expect(ceiling[name].busiest_thread_us_per_push, name).toBeGreaterThan(0);
    }
    for (const name of ['cairn', 'row', 'log'] as const)
      expect(ceiling.runs[name][0].non2xx, name).toBe(0);
    const mem = result<MemoryStart>(out, 'memory-start');
    expect(mem.dedupe).toMatchObject({
      stored_blobs: 1,
      blob_rows: 1,
      artifacts: mem.dedupe.pushes,
    });
    const large = result<Large>(out, 'large');
    expect(large.dd_fsync_MBps).toBeGreaterThan(0);
    expect(large.put_vs_dd_fsync).toBeGreaterThan(0);
    const query = result<Query>(out, 'query');
    expect(Object.keys(query.http)).toEqual(Object.keys(query.in_process));
    const dirs = result<Dirs>(out, 'dirs');
    for (const r of Object.values(dirs.results))
      for (const tool of [
        'cairn',
        'aws',
        'rclone',
        'cairnPull',
        'awsPull',
        'rclonePull',
        'binPush',
      ] as const) {
        expect(r[tool].files_per_s, tool).toBeGreaterThan(0);
        // Each side really ran against its server (radosgw or Cairn) and spent CPU there.
        expect(r[tool].server_cpu_ms_per_file, tool).toBeGreaterThan(0);
      }
    // The single binary's re-push ran too (it sends the server almost nothing to do).
    for (const r of Object.values(dirs.results)) expect(r.binResync.files_per_s).toBeGreaterThan(0);
    // PostgreSQL vs SQLite: both sides ran, PostgreSQL really served the pushes (its statement
    // counters moved), and the same catalog gives the same answers on both.
    const pgPush = result<PgPush>(out, 'pg-push');
    for (const s of [pgPush, pgPush.session_per_push])
      for (const side of ['sqlite', 'postgres'] as const) {
        expect(s[side].rps, side).toBeGreaterThan(0);
        expect(s[side].server_cpu_ms_per_push, side).toBeGreaterThan(0);
      }
    // Group commit puts several pushes in one statement: fewer than one per push is fine.
    expect(pgPush.postgres.statements_per_push).toBeGreaterThan(0);
    for (const mode of ['one_session', 'session_per_push'] as const)
      for (const side of ['sqlite', 'postgres'] as const)
        expect(pgPush.runs[mode][side][0].non2xx, `${mode} ${side}`).toBe(0);
    for (const side of ['sqlite', 'postgres'] as const)
      expect(pgPush.ready[side][0], side).toBeGreaterThan(0);
    const pgQuery = result<PgQuery>(out, 'pg-query');
    expect(Object.keys(pgQuery.http)).toEqual(Object.keys(pgQuery.in_process));
    for (const [name, t] of [
      ...Object.entries(pgQuery.in_process),
      ...Object.entries(pgQuery.http),
    ])
      expect(t.postgres.results, name).toBe(t.sqlite.results);
    expect(pgQuery.in_process['unselective pair (agent, stage)'].postgres.results).toBe(50);
    for (const [name, e] of Object.entries(pgQuery.explain))
      expect(e.plan.join('\n'), name).toContain('Execution Time');
    // Several nodes: every N served every phase, PostgreSQL and the nodes really did the work,
    // 1 KiB bodies stayed in the catalog and 128 KiB ones each became one radosgw object.
    const nodes = result<Nodes>(out, 'nodes');
    for (const n of ['1', '2', '3'] as const) {
      for (const [phase, s] of Object.entries(nodes.nodes[n])) {
        // Pushes stored or queries answered (a 2 s run may see few 128 KiB pushes answered).
        expect(s.counted, `${n} ${phase}`).toBeGreaterThan(0);
        expect(s.non2xx, `${n} ${phase}`).toBe(0);
        // Every node served its share (wrk's threads are spread over the nodes).
        expect(s.per_node, `${n} ${phase}`).toHaveLength(Number(n));
        expect(Math.min(...s.per_node), `${n} ${phase}`).toBeGreaterThan(0);
        expect(s.cpu_us.cairn, `${n} ${phase}`).toBeGreaterThan(0);
        expect(s.cpu_us.postgres, `${n} ${phase}`).toBeGreaterThan(0);
      }
      const { push_1k: small, push_128k: large, query: q } = nodes.nodes[n];
      // Counted (a group of pushes shares its statements: under one per push).
      expect(small.pg.statements, n).toBeGreaterThan(0);
      expect(small.pg.write_xacts, n).toBeGreaterThan(0);
      expect(small.path).toEqual({ inline_rows: 1, s3_objects: 0 });
      expect(large.path?.inline_rows, n).toBe(0);
      expect(large.path?.s3_objects, n).toBeGreaterThanOrEqual(1);
      expect(large.cpu_us.radosgw, n).toBeGreaterThan(0);
      expect(q.results, n).toBeGreaterThan(0);
    }
    const table = readFileSync(readme, 'utf8');
    expect(table).toMatch(/\| durable push, distinct 1 KiB, wrk -t2 -c64, one session +\|/);
    expect(table).toContain('PostgreSQL ÷ SQLite');
    expect(table).toContain('push a directory of 200 ~1 KiB files (cairn push DIR)');
    expect(table).toMatch(/\| durable push, distinct 1 KiB, wrk -t2 -c64 +\|/);
    expect(table).toContain('Quick run (tiny sizes)');
    expect(table).toMatch(/\| durable push, distinct 1 KiB \(inline in the catalog\) +\| 3 +\|/);
    expect(table).toContain('dd conv=fsync of the same file');
    expect(table).toContain("reference, not Cairn: Cairn's SQLite catalog on a writer thread");
    expect(table).toMatch(/the first, right after its push, from disk: \d+ MB\/s/);
    // node bench/readme-table.mjs alone rewrites the same table in place.
    const again = spawnSync(process.execPath, ['bench/readme-table.mjs', readme], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, BENCH_OUT: out },
    });
    expect(again.status, again.stderr).toBe(0);
    expect(readFileSync(readme, 'utf8')).toBe(table);
  }, 600_000);
});
