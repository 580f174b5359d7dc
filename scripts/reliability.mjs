#!/usr/bin/env node
// Runs a reliability harness from test/reliability on demand:
//   node scripts/reliability.mjs crash-loop --cycles 200
//   node scripts/reliability.mjs soak --minutes 3
// Builds the server first into .tmp/reliability/build (the harnesses spawn the real
// `cairn serve`, and a private build is safe from concurrent rebuilds of build/), bundles the harness's
// TypeScript entry with esbuild into .tmp/reliability/ (dependencies stay external), runs it.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';

const root = resolve(import.meta.dirname, '..');
const [name, ...args] = process.argv.slice(2);
const entries = { 'crash-loop': 'crash-loop-main.ts', soak: 'soak-main.ts' };
if (!entries[name]) {
  console.error(`usage: node scripts/reliability.mjs ${Object.keys(entries).join('|')} [options]`);
  process.exit(2);
}
// Two levels below the root, like test/helpers/, so the helpers' ROOT still resolves.
const outdir = join(root, '.tmp', 'reliability');
mkdirSync(outdir, { recursive: true });
// A private build of the server: a run takes minutes, and build/ is rebuilt by others meanwhile.
const tsc = spawnSync(
  join(root, 'node_modules/.bin/tsc'),
  ['-p', 'tsconfig.build.json', '--outDir', join(outdir, 'build')],
  { cwd: root, stdio: 'inherit' },
);
// tsc still emits on type errors; the harness then tests what was emitted, and says so.
if (tsc.status !== 0) console.error('warning: the build reported type errors (see above)');
const cli = join(outdir, 'cairn.mjs');
writeFileSync(cli, "import './build/main.js';\n");
const outfile = join(outdir, `${name}.mjs`);
await build({
  entryPoints: [join(root, 'test/reliability', entries[name])],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  logLevel: 'warning',
});
const run = spawnSync(process.execPath, [outfile, ...args], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, CAIRN_TEST_CLI: cli },
});
process.exit(run.status ?? 1);
