import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** Repository root. */
const ROOT = resolve(import.meta.dirname, '../../..');

/** Where Debian's postgresql-15 puts its binaries (scripts/engines/pg-start.sh uses them). */
const PG_BIN = '/usr/lib/postgresql/15/bin';

/** A free TCP port on loopback (the cluster listens there; several runs may share the host). */
async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => res(port));
    });
  });
}

/**
 * vitest global setup: ONE throwaway PostgreSQL 15 cluster per run (scripts/engines/pg-start.sh:
 * runs as the postgres user, fsync off, socket dir under a short /tmp path), stopped and removed
 * when the run ends. Tests reach it through CAIRN_TEST_PG_URL (its admin URL; see
 * test/helpers/engines/pg.ts, which gives each test a database of its own). Missing binaries
 * fail the run, naming the package: a PostgreSQL suite is never skipped.
 */
export default async function setup(): Promise<() => Promise<void>> {
  if (!existsSync(join(PG_BIN, 'initdb')))
    throw new Error(
      `PostgreSQL 15 is not installed (${PG_BIN}/initdb missing): the PostgreSQL catalog tests need it. ` +
        'Install it with: apt-get install -y --no-install-recommends postgresql-15',
    );
  await stopAbandoned();
  // Short: the socket path (BASE/sock/.s.PGSQL.PORT) must fit in 107 bytes.
  const base = mkdtempSync('/tmp/cpg-');
  writeFileSync(join(base, 'owner'), String(process.pid));
  const port = await freePort();
  const out = execFileSync(
    'bash',
    [join(ROOT, 'scripts/engines/pg-start.sh'), base, String(port)],
    {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const pid = Number(/postgres pid (\d+)/.exec(out)?.[1]);
  if (!pid) throw new Error(`scripts/engines/pg-start.sh did not report a pid: ${out}`);
  process.env.CAIRN_TEST_PG_URL = `postgres://postgres@127.0.0.1:${port}/postgres`;
  process.env.CAIRN_TEST_PG_SOCKET = join(base, 'sock');
  process.env.CAIRN_TEST_PG_PORT = String(port);
  return () => stop(base, pid);
}

/** Stops the cluster in `base` (postmaster `pid`) and removes it. */
async function stop(base: string, pid: number): Promise<void> {
  try {
    process.kill(pid, 'SIGINT');
  } catch {
    // already gone
  }
  // Stopped once its pid file is gone (kill -0 may see a zombie reaped late).
  for (let i = 0; i < 600 && existsSync(join(base, 'data/postmaster.pid')); i++) await sleep(50);
  rmSync(base, { recursive: true, force: true });
}

/**
 * Clusters left by runs that were killed before their teardown (a vitest whose output pipe
 * closed, Ctrl-C twice): those whose owner process is gone are stopped and removed. Clusters
 * of runs still going are left alone.
 */
async function stopAbandoned(): Promise<void> {
  for (const name of readdirSync('/tmp').filter((n) => /^cpg-\w{6}$/.test(n))) {
    const base = join('/tmp', name);
    try {
      const owner = Number(readFileSync(join(base, 'owner'), 'utf8'));
      if (alive(owner)) continue;
      const pidFile = join(base, 'data/postmaster.pid');
      const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').split('\n')[0]) : 0;
      // Only that cluster's postmaster (a pid left by a crash may belong to anyone by now).
      const cmd = pid > 0 && alive(pid) ? readFileSync(`/proc/${pid}/cmdline`, 'utf8') : '';
      if (cmd.includes('postgres') && cmd.includes(base)) await stop(base, pid);
      else rmSync(base, { recursive: true, force: true });
    } catch {
      // not ours, or half made: leave it
    }
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
