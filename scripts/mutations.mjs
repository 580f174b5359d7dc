#!/usr/bin/env node
// Proves the conformance suites are the specification: applies each mutation below (a bug a
// catalog could plausibly have) to the SQLite catalog in a temporary copy of the tree, runs the
// suites there, and reports the mutation killed (some test failed: which ones) or survived.
// A survivor means the suites miss that bug. Also runs the unmutated copy first: it must pass.
// A mutation may name its own suites (e.g. the multi-node kill storm, which runs the built
// server: the copy is then built first).
//
//   node scripts/mutations.mjs            every mutation (~6 min on a busy 2-core machine)
//   node scripts/mutations.mjs keep       only those whose id contains the word
//   node scripts/mutations.mjs storm 3    each chosen mutation 3 times (a random suite must
//                                         catch it every time: "killed 3/3")
//
// CAIRN_MODEL_RUNS (default 10 here) sets how many random histories the lifecycle model suite
// runs per mutation (seeds 1..N, a subset of the suite's own). Exit code 1 if any survives.

import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const SUITES = ['test/conformance'];

/** Each: the file, the exact text to replace (must occur once), and what replaces it. */
const MUTATIONS = [
  {
    id: 'cap-gone',
    what: 'share-link download cap check removed',
    file: 'src/catalog/sqlite/sqlite-shares.ts',
    from: `WHERE id = @id AND revoked_at IS NULL AND expires_at > @now
               AND (max_downloads IS NULL OR downloads < max_downloads)`,
    to: `WHERE id = @id AND revoked_at IS NULL AND expires_at > @now`,
  },
  {
    id: 'cap-not-atomic',
    what: 'share-link download cap checked before the update instead of in it',
    file: 'src/catalog/sqlite/sqlite-shares.ts',
    from: `  async claimDownload(id: string, now: number): Promise<boolean> {
    return this.batch.run(`,
    to: `  async claimDownload(id: string, now: number): Promise<boolean> {
    const seen = this.db
      .prepare<[string], { downloads: number; max_downloads: number | null }>(
        'SELECT downloads, max_downloads FROM shares WHERE id = ?',
      )
      .get(id);
    if (seen && seen.max_downloads !== null && seen.downloads >= seen.max_downloads) return false;
    return this.batch.run(`,
    also: {
      from: `               AND (max_downloads IS NULL OR downloads < max_downloads)`,
      to: ``,
    },
  },
  {
    id: 'keep-off-by-one',
    what: 'keep-last-N keeps N-1 (rank >= keep)',
    file: 'src/catalog/sqlite/sqlite-retention.ts',
    from: `WHERE r.rank > @keep`,
    to: `WHERE r.rank >= @keep`,
  },
  {
    id: 'keep-by-time',
    what: 'keep-last-N ranks versions by created_at instead of version',
    file: 'src/catalog/sqlite/sqlite-retention.ts',
    from: `PARTITION BY name ORDER BY version DESC`,
    // Ties broken by version: only versions stamped by a clock that runs behind tell them apart.
    to: `PARTITION BY name ORDER BY created_at DESC, version DESC`,
  },
  {
    id: 'version-reused',
    what: 'next version = max(version) + 1 instead of the counter row',
    file: 'src/catalog/sqlite/rows.ts',
    from: `export const NEXT_VERSION = \`INSERT INTO version_counters (session_seq, name, version)
  VALUES (@seq, @name, 1)
  ON CONFLICT (session_seq, name) DO UPDATE SET version = version + 1
  RETURNING version\`;`,
    to: `export const NEXT_VERSION = \`SELECT coalesce(max(version), 0) + 1 AS version
  FROM artifacts WHERE session_seq = @seq AND name = @name\`;`,
  },
  {
    id: 'unref-per-victim',
    what: 'a blob reference given back per selected victim, not per row DELETE…RETURNING removed',
    file: 'src/catalog/sqlite/row-drops.ts',
    from: `    const gone = del.get(r.seq);
    if (!gone) continue;
    removed.push(r);
    after?.(r);
    if ((unref.get(gone.sha256)?.refs ?? 0) <= 0) unreferenced.push(gone.sha256);`,
    to: `    const gone = del.get(r.seq);
    const refs = unref.get(r.sha256)?.refs ?? 0;
    if (!gone) continue;
    removed.push(r);
    after?.(r);
    if (refs <= 0) unreferenced.push(r.sha256);`,
  },
  // The lifecycle rules themselves (core/lifecycle.ts): only the model suite catches these.
  {
    id: 'rule-newest-is-latest',
    what: 'a read by name gets the newest row even when it expired (is_latest alone)',
    file: 'src/catalog/sqlite/rows.ts',
    from: 'export const NEWEST_LIVE = `(a.is_latest = 1 OR NOT EXISTS',
    to: 'export const NEWEST_LIVE = `(a.is_latest = 1 OR 0 AND NOT EXISTS',
  },
  {
    id: 'rule-sealed-partly',
    what: "a sealed session's artifacts expire on their own (not whole)",
    file: 'src/catalog/sqlite/rows.ts',
    from: '    OR (s.sealed_at IS NOT NULL AND ${x}.expires_at > s.sealed_at))`;',
    to: '    OR (0 AND s.sealed_at IS NOT NULL AND ${x}.expires_at > s.sealed_at))`;',
  },
  {
    id: 'rule-sweep-manifest',
    what: "the sweep removes a sealed session's manifest rows past their own expiry",
    file: 'src/catalog/sqlite/sqlite-retention.ts',
    from: '    AND (s.sealed_at IS NULL OR a.expires_at <= s.sealed_at)`;',
    to: '`;',
  },
  // The multi-node kill storm (real nodes on PostgreSQL and radosgw; ~1 min a run).
  {
    id: 'storm-delete-referenced',
    what: 'deleting an artifact deletes its bytes even while other artifacts still hold them',
    file: 'src/core/artifact-service.ts',
    from: `    if (removed.blobUnreferenced) await this.collectBlob(removed.record.sha256);`,
    to: `    await this.o.blobs.delete(removed.record.sha256);`,
    suites: ['test/nodes/kill-storm.test.ts'],
  },
];

/** A copy of what the suites need (sources, tests, configs, engine scripts), node_modules linked. */
function copyTree() {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-mutant-'));
  const parts = ['src', 'test', 'bin', 'scripts', 'package.json', 'tsconfig.json'];
  for (const p of [...parts, 'tsconfig.build.json', 'vitest.config.ts'])
    cpSync(join(ROOT, p), join(dir, p), { recursive: true });
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

/** Builds the copy (build/, which bin/cairn.js loads) for suites that spawn the server. */
function buildTree(dir) {
  const tsc = join(dir, 'node_modules/typescript/bin/tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: dir });
  if (r.status !== 0) throw new Error(`the mutant does not build:\n${r.stdout}${r.stderr}`);
}

const suitesOf = (m) => m.suites ?? SUITES;
const needsBuild = (suites) => suites.some((s) => !s.startsWith('test/conformance'));

function replaceOnce(dir, file, from, to) {
  const path = join(dir, file);
  const text = readFileSync(path, 'utf8');
  const at = text.indexOf(from);
  if (at < 0 || text.indexOf(from, at + 1) >= 0)
    throw new Error(`${file}: the text to mutate is not there exactly once (the code changed?)`);
  writeFileSync(path, text.slice(0, at) + to + text.slice(at + from.length));
}

/** Runs `suites` in `dir`; returns the full names of the tests that failed. */
function runSuites(dir, suites) {
  const out = join(dir, 'results.json');
  const env = { ...process.env, CAIRN_MODEL_RUNS: process.env.CAIRN_MODEL_RUNS ?? '10' };
  if (needsBuild(suites)) buildTree(dir);
  spawnSync(
    join(dir, 'node_modules/.bin/vitest'),
    ['run', ...suites, '--reporter=json', `--outputFile=${out}`],
    { cwd: dir, env, stdio: 'ignore' },
  );
  const results = JSON.parse(readFileSync(out, 'utf8'));
  if (results.numTotalTests === 0) throw new Error('the suites ran no test');
  return results.testResults.flatMap((f) =>
    f.assertionResults.filter((t) => t.status === 'failed').map((t) => t.fullName),
  );
}

const only = process.argv[2];
const runs = Number(process.argv[3] ?? 1);
const chosen = MUTATIONS.filter((m) => !only || m.id.includes(only));
const started = Date.now();
const control = copyTree();
try {
  const failed = runSuites(control, [...new Set(chosen.flatMap(suitesOf))]);
  if (failed.length > 0) {
    console.error(`the unmutated suites fail, nothing to compare:\n  ${failed.join('\n  ')}`);
    process.exit(2);
  }
} finally {
  rmSync(control, { recursive: true, force: true });
}
let survivors = 0;
for (const m of chosen) {
  let caught = 0;
  for (let run = 0; run < runs; run++) {
    const dir = copyTree();
    try {
      replaceOnce(dir, m.file, m.from, m.to);
      if (m.also) replaceOnce(dir, m.file, m.also.from, m.also.to);
      const failed = runSuites(dir, suitesOf(m));
      if (failed.length > 0) caught++;
      const tally = runs > 1 ? ` (run ${run + 1} of ${runs})` : '';
      console.log(`${failed.length > 0 ? 'killed  ' : 'SURVIVED'} ${m.id}: ${m.what}${tally}`);
      for (const name of failed) console.log(`           ✗ ${name}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  if (caught < runs) survivors++;
  if (runs > 1) console.log(`         ${m.id}: caught ${caught}/${runs}`);
}
const secs = Math.round((Date.now() - started) / 1000);
console.log(`${chosen.length - survivors} of ${chosen.length} killed in ${secs} s`);
process.exit(survivors > 0 ? 1 : 0);
