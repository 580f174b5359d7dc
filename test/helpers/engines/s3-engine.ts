import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';

/** The S3 user scripts/engines/ceph-start.sh creates. */
export const S3_ACCESS_KEY = 'CAIRNTESTACCESSKEY01';
export const S3_SECRET_KEY = 'cairn-test-secret-key-0123456789abcdef';

const SCRIPT = resolve(import.meta.dirname, '../../../scripts/engines/ceph-start.sh');

/** A running single-node Ceph with radosgw (see ceph-start.sh). */
export interface RadosGw {
  /** `http://127.0.0.1:PORT` */
  endpoint: string;
  port: number;
  /** Pids of ceph-mon, ceph-osd and radosgw. */
  pids: number[];
  /** The radosgw daemon's pid (stop it to make S3 unreachable). */
  rgwPid: number;
  /** Its directory (config, logs). */
  dir: string;
  /** Kills every daemon and removes the directory; idempotent. */
  stop(): void;
  /** SIGKILLs radosgw alone (S3 unreachable; Ceph itself keeps running). */
  killGateway(): void;
  /**
   * Stops radosgw alone with `signal` (SIGTERM: its own orderly shutdown; SIGKILL: a crash)
   * and resolves once the process is gone and its port refuses connections. Ceph keeps
   * running, so the objects stay for {@link restartGateway}.
   */
  stopGateway(signal: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  /** Starts radosgw again (same port, same Ceph) after a stop and waits until it answers. */
  restartGateway(): Promise<void>;
}

/** A free TCP port on loopback. */
export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => res(port));
    });
  });
}

/**
 * Starts a radosgw (memstore: objects in RAM, for functional tests only) under a short /tmp
 * directory (Ceph's admin sockets need paths under 108 bytes). Throws, naming the apt command,
 * when Ceph is not installed: tests that need S3 never skip.
 */
export async function startRadosGw(store: 'memstore' | 'bluestore' = 'memstore'): Promise<RadosGw> {
  // A start can fail on a loaded machine (a port taken between choosing and binding, a mon
  // slow to answer its first command): one more try with fresh ports and directory.
  try {
    return await startOnce(store);
  } catch {
    return startOnce(store);
  }
}

async function startOnce(store: 'memstore' | 'bluestore'): Promise<RadosGw> {
  if (spawnSync('sh', ['-c', 'command -v radosgw && command -v ceph-mon']).status !== 0)
    throw new Error(
      'radosgw is not installed; the S3 tests need it: apt-get install -y --no-install-recommends radosgw ceph-mon ceph-osd bc',
    );
  const dir = mkdtempSync('/tmp/cs3-');
  const port = await freePort();
  const run = spawnSync(
    'bash',
    [SCRIPT, join(dir, 'c'), String(await freePort()), String(port), store],
    { encoding: 'utf8', env: { ...process.env, BLOCK_SIZE: '8G' } },
  );
  const pids = [...(run.stdout ?? '').matchAll(/pid (\d+)/g)].map((m) => Number(m[1]));
  const rgw = /client\.rgw\S* pid (\d+)/.exec(run.stdout ?? '');
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };
  if (run.status !== 0 || !rgw) {
    stop();
    throw new Error(`radosgw did not start: ${run.stdout}${run.stderr}`);
  }
  const endpoint = `http://127.0.0.1:${port}`;
  const engine: RadosGw = {
    endpoint,
    port,
    pids,
    rgwPid: Number(rgw[1]),
    dir: join(dir, 'c'),
    stop,
    killGateway: () => process.kill(engine.rgwPid, 'SIGKILL'),
    stopGateway: async (signal) => {
      process.kill(engine.rgwPid, signal);
      for (let i = 0; running(engine.rgwPid) || (await answers(endpoint)); i++) {
        if (i === 1200) throw new Error(`radosgw ${engine.rgwPid} did not stop on ${signal}`);
        await new Promise((res) => setTimeout(res, 25));
      }
    },
    restartGateway: async () => {
      const conf = join(engine.dir, 'ceph.conf');
      // Asynchronously: the caller's own requests keep going while radosgw connects to Ceph.
      await promisify(execFile)('sh', [
        '-c',
        `radosgw -c '${conf}' -n client.rgw.a >/dev/null 2>&1`,
      ]).catch((err: Error) => {
        throw new Error(`radosgw did not restart: ${err.message}`);
      });
      for (let i = 0; ; i++) {
        if (await answers(endpoint)) break;
        if (i === 600) throw new Error(`radosgw does not answer on ${endpoint} after restart`);
        await new Promise((res) => setTimeout(res, 50));
      }
      engine.rgwPid = Number(readFileSync(join(engine.dir, 'run/client.rgw.a.pid'), 'utf8'));
      pids.push(engine.rgwPid);
    },
  };
  return engine;
}

/** Whether `pid` is a live process (not gone, not a zombie awaiting its parent). */
function running(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

async function answers(endpoint: string): Promise<boolean> {
  try {
    await fetch(endpoint, { signal: AbortSignal.timeout(2000) });
    return true;
  } catch {
    return false;
  }
}

/** An S3 client for the test user, with the settings radosgw 16 needs. */
export function testS3Client(endpoint: string): S3Client {
  // As makeS3Client: no multi-line Node 20 notice from the SDK in the test output.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  return new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: S3_ACCESS_KEY, secretAccessKey: S3_SECRET_KEY },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

/** Creates `bucket` on the radosgw at `endpoint`. */
export async function createBucket(endpoint: string, bucket: string): Promise<void> {
  const client = testS3Client(endpoint);
  try {
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
  } finally {
    client.destroy();
  }
}
