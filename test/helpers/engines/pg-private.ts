import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from './s3-engine.js';

const run = promisify(execFile);
const SCRIPT = resolve(import.meta.dirname, '../../../scripts/engines/pg-start.sh');
const PG_CTL = '/usr/lib/postgresql/15/bin/pg_ctl';

/**
 * How {@link PrivatePostgres.stop} shuts the server down: `fast` rolls back the open
 * transactions, ends every session and checkpoints; `immediate` kills it as a crash would, and
 * the next start replays the WAL.
 */
export type PgStopMode = 'fast' | 'immediate';

/** A PostgreSQL 15 cluster of one test's own, which the test may stop and start again. */
export interface PrivatePostgres {
  /** `postgres://postgres@127.0.0.1:PORT/cairn` (the database pg-start.sh makes). */
  url: string;
  port: number;
  /** The postmaster's pid while it runs (changes at each start). */
  pid(): number;
  /** `pg_ctl stop -m MODE`, resolved once the postmaster is gone. */
  stop(mode: PgStopMode): Promise<void>;
  /** `pg_ctl start` on the same port and data, resolved once it accepts connections. */
  start(): Promise<void>;
  /** A new empty database on it; returns its URL. */
  createDatabase(): Promise<string>;
  /** `pg_ctl restart -m MODE`: stop, then start again at once. */
  restart(mode: PgStopMode): Promise<void>;
  /** Stops it (immediate) and removes its directory; idempotent. */
  close(): Promise<void>;
}

/**
 * Starts a throwaway PostgreSQL 15 (scripts/engines/pg-start.sh, ~1 s) for a test that must
 * stop or crash it, which the run's shared cluster (pg-global.ts) must never be. `durable`
 * (the default here) keeps fsync, synchronous_commit and full_page_writes on: a commit
 * PostgreSQL acknowledged survives `stop('immediate')`. The directory is `/tmp/cpg-XXXXXX`
 * with this process as its owner, so a run killed before `close` has it removed by the next
 * run's global setup, as the shared clusters are.
 */
export async function startPrivatePostgres(
  opts: { durable?: boolean } = {},
): Promise<PrivatePostgres> {
  const durable = opts.durable ?? true;
  // Short: the socket path (BASE/sock/.s.PGSQL.PORT) must fit in 107 bytes.
  const base = mkdtempSync('/tmp/cpg-');
  writeFileSync(join(base, 'owner'), String(process.pid));
  const port = await freePort();
  try {
    await run('bash', [SCRIPT, base, String(port), ...(durable ? ['durable'] : [])]);
  } catch (err) {
    rmSync(base, { recursive: true, force: true });
    throw new Error(`scripts/engines/pg-start.sh failed: ${(err as Error).message}`);
  }
  const data = join(base, 'data');
  const pidFile = join(data, 'postmaster.pid');
  // The options pg-start.sh started it with (pg_ctl start does not reuse them by itself).
  let options = `-c listen_addresses=127.0.0.1 -p ${port} -k ${join(base, 'sock')}`;
  if (!durable) options += ' -c fsync=off -c synchronous_commit=off -c full_page_writes=off';
  const pgCtl = (...args: string[]) =>
    run('runuser', ['-u', 'postgres', '--', PG_CTL, '-D', data, ...args]);
  const ownerGone = () => {
    // A test process that exits without close (a failed beforeAll): no cluster left running.
    if (!existsSync(pidFile)) return;
    try {
      process.kill(Number(readFileSync(pidFile, 'utf8').split('\n')[0]), 'SIGQUIT');
    } catch {
      // already gone
    }
  };
  process.on('exit', ownerGone);
  let closed = false;
  const url = `postgres://postgres@127.0.0.1:${port}/cairn`;
  const engine: PrivatePostgres = {
    url,
    port,
    pid: () => Number(readFileSync(pidFile, 'utf8').split('\n')[0]),
    stop: async (mode) => {
      await pgCtl('-m', mode, '-w', 'stop');
    },
    start: async () => {
      await pgCtl('-l', join(base, 'server.log'), '-o', options, '-w', 'start');
    },
    createDatabase: async () => {
      const name = `t_${randomBytes(8).toString('hex')}`;
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      try {
        await c.query(`CREATE DATABASE ${name}`);
      } finally {
        await c.end();
      }
      return url.replace(/\/cairn$/, `/${name}`);
    },
    restart: async (mode) => {
      await pgCtl('-m', mode, '-l', join(base, 'server.log'), '-o', options, '-w', 'restart');
    },
    close: async () => {
      if (closed) return;
      closed = true;
      process.off('exit', ownerGone);
      if (existsSync(pidFile)) await pgCtl('-m', 'immediate', '-w', 'stop').catch(() => null);
      for (let i = 0; i < 200 && existsSync(pidFile); i++) await sleep(50);
      rmSync(base, { recursive: true, force: true });
    },
  };
  return engine;
}
