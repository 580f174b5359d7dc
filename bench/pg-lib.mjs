/* global performance, fetch */
// PostgreSQL for the benchmarks: a throwaway PostgreSQL 15 cluster in durable mode
// (scripts/engines/pg-start.sh), pg_stat_statements loaded, statement/transaction counters,
// bulk COPY through psql, and time-to-ready of `cairn serve` (start to first /healthz 200).
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { ROOT, freePort, sleep } from './lib.mjs';

const PG_BIN = '/usr/lib/postgresql/15/bin';
const asPostgres = (args) => execFileSync('runuser', ['-u', 'postgres', '--', ...args]);

/**
 * Starts PostgreSQL 15 in durable mode (fsync, synchronous_commit and full_page_writes at their
 * defaults) under a fresh /tmp dir, with pg_stat_statements, and a database "cairn". Resolves
 * with its URL, postmaster pid, sql(text, params) and stop() (which removes the cluster).
 */
export async function startPostgres() {
  // Short: the socket path (BASE/sock/.s.PGSQL.PORT) must fit in 107 bytes.
  const base = fs.mkdtempSync('/tmp/cpgb-');
  const port = await freePort();
  execFileSync('bash', [join(ROOT, 'scripts/engines/pg-start.sh'), base, String(port), 'durable']);
  const url = `postgres://postgres@127.0.0.1:${port}/cairn`;
  const sql = async (text, params) => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      return (await c.query(text, params)).rows;
    } finally {
      await c.end();
    }
  };
  await sql("ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'");
  await sql("ALTER SYSTEM SET maintenance_work_mem = '256MB'");
  asPostgres([
    `${PG_BIN}/pg_ctl`,
    '-D',
    join(base, 'data'),
    '-w',
    'restart',
    '-l',
    join(base, 'server.log'),
  ]);
  await sql('CREATE EXTENSION pg_stat_statements');
  const pid = Number(fs.readFileSync(join(base, 'data/postmaster.pid'), 'utf8').split('\n')[0]);
  return {
    url,
    port,
    pid,
    sql,
    /** Runs `psql -c "COPY …"`, feeding it `rows` (arrays) as COPY text; resolves with the count. */
    copy: (table, columns, rows) => copyRows(url, table, columns, rows),
    stop: async () => {
      asPostgres([`${PG_BIN}/pg_ctl`, '-D', join(base, 'data'), '-w', '-m', 'fast', 'stop']);
      fs.rmSync(base, { recursive: true, force: true });
    },
  };
}

/** Transactions committed, rolled back (a serialization failure is rerun) and statements run (pg_stat_statements calls) in database "cairn". */
export async function pgCounters(srv) {
  const [x] = await srv.sql(
    `SELECT (SELECT xact_commit FROM pg_stat_database WHERE datname = 'cairn') AS commits,
            (SELECT xact_rollback FROM pg_stat_database WHERE datname = 'cairn') AS rollbacks,
            (SELECT coalesce(sum(calls), 0) FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
              WHERE d.datname = 'cairn') AS statements`,
  );
  return {
    commits: Number(x.commits),
    rollbacks: Number(x.rollbacks),
    statements: Number(x.statements),
  };
}

/** A COPY text field: \N for null, backslash, tab and newlines escaped. */
const field = (v) =>
  v === null || v === undefined
    ? '\\N'
    : String(v)
        .replace(/\\/g, '\\\\')
        .replace(/\t/g, '\\t')
        .replace(/\n/g, '\\n')
        .replace(/\r/g, '\\r');

async function copyRows(url, table, columns, rows) {
  const child = spawn(
    `${PG_BIN}/psql`,
    [
      '-q',
      '-v',
      'ON_ERROR_STOP=1',
      '-d',
      url,
      '-c',
      `COPY ${table} (${columns.join(', ')}) FROM STDIN`,
    ],
    { stdio: ['pipe', 'ignore', 'inherit'] },
  );
  const done = new Promise((res, rej) =>
    child.on('exit', (code) =>
      code === 0 ? res() : rej(new Error(`COPY ${table}: psql exited ${code}`)),
    ),
  );
  let n = 0;
  let chunk = '';
  for (const row of rows) {
    chunk += `${row.map(field).join('\t')}\n`;
    n++;
    if (chunk.length > 1 << 20) {
      if (!child.stdin.write(chunk)) await new Promise((r) => child.stdin.once('drain', r));
      chunk = '';
    }
  }
  child.stdin.end(chunk);
  await done;
  return n;
}

/**
 * Starts `cairn serve` over `dataDir` (extra `args`, e.g. --catalog URL) on a free port and
 * polls /healthz every 5 ms: resolves with the ms from spawn to the first 200, the url, pid,
 * admin token and stop().
 */
export async function startCairnTimed(dataDir, args = []) {
  const port = await freePort();
  const t0 = performance.now();
  const child = spawn(
    process.execPath,
    [join(ROOT, 'bin/cairn.js'), 'serve', '--port', String(port), '--data', dataDir, ...args],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  let exited = false;
  const exit = new Promise((r) => child.on('exit', () => r((exited = true))));
  const url = `http://127.0.0.1:${port}`;
  for (;;) {
    if (exited) throw new Error(`cairn serve exited: ${err}`);
    try {
      if ((await fetch(`${url}/healthz`)).status === 200) break;
    } catch {
      // not listening yet
    }
    await sleep(5);
  }
  const readyMs = performance.now() - t0;
  const token = fs.readFileSync(join(dataDir, 'admin.token'), 'utf8').trim();
  return {
    pid: child.pid,
    url,
    token,
    readyMs,
    stop: async () => {
      child.kill('SIGTERM');
      await exit;
    },
  };
}
