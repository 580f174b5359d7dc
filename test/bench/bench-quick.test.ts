import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readmeShellBlocks } from '../docs/readme-blocks.js';
import { ROOT, tempDir } from '../helpers/server.js';

const work = tempDir('cairn-bench-test-');
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Every benchmark's JSON result. */
const NAMES = ['small-push', 'ceiling', 'large', 'query', 'memory-start', 'dirs'];

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
    Record<'cairn' | 'aws' | 'rclone' | 'cairnPull' | 'awsPull' | 'rclonePull', DirsTool>
  >;
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
      timeout: 420_000,
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
      ] as const) {
        expect(r[tool].files_per_s, tool).toBeGreaterThan(0);
        // Each side really ran against its server (radosgw or Cairn) and spent CPU there.
        expect(r[tool].server_cpu_ms_per_file, tool).toBeGreaterThan(0);
      }
    const table = readFileSync(readme, 'utf8');
    expect(table).toContain('push a directory of 200 ~1 KiB files (cairn push DIR)');
    expect(table).toMatch(/\| durable push, distinct 1 KiB, wrk -t2 -c64 +\|/);
    expect(table).toContain('Quick run (tiny sizes)');
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
  }, 480_000);
});
