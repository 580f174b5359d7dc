#!/usr/bin/env node
// `npm run bench`: every benchmark in turn, then the README table. Pass --quick for a short
// run with tiny sizes (checks the benchmarks work; figures mean nothing).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './lib.mjs';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const only = args.filter((a) => !a.startsWith('--'));
const all = [
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
for (const name of only.length ? only : all) {
  console.log(`\n=== bench ${name}`);
  const r = spawnSync(
    process.execPath,
    [join(ROOT, 'bench', `${name}.mjs`), ...(quick ? ['--quick'] : [])],
    {
      stdio: 'inherit',
    },
  );
  if (r.status !== 0) process.exit(r.status ?? 1);
}
const readme = process.env.BENCH_README;
const r = spawnSync(
  process.execPath,
  [join(ROOT, 'bench/readme-table.mjs'), ...(readme ? [readme] : [])],
  {
    stdio: 'inherit',
  },
);
process.exit(r.status ?? 1);
