/* global URLSearchParams, fetch */
// Helpers for bench/nodes.mjs: N `cairn serve` nodes on one PostgreSQL catalog and one radosgw
// bucket, the S3 bucket itself, PostgreSQL's counters (exact ones and pgstat ones), and CPU
// seconds of every process taking part, read from /proc.
import { CreateBucketCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startCairnTimed } from './pg-lib.mjs';
import { ROOT, cpuSeconds, tempDir } from './lib.mjs';

const KEY = 'CAIRNTESTACCESSKEY01';
const SECRET = 'cairn-test-secret-key-0123456789abcdef';

/**
 * The bucket `bucket` on the radosgw at `endpoint`, created here: `url` for `--blobs` (under
 * `prefix`), and count() of the objects under that prefix.
 */
export async function benchBucket(endpoint, bucket, prefix) {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  // Every `cairn serve` started from here inherits the keys.
  Object.assign(process.env, { AWS_ACCESS_KEY_ID: KEY, AWS_SECRET_ACCESS_KEY: SECRET });
  const client = new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: KEY, secretAccessKey: SECRET },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  const q = new URLSearchParams({ endpoint, region: 'us-east-1', force_path_style: 'true' });
  return {
    url: `s3://${bucket}/${prefix}?${q}`,
    count: async () => {
      let n = 0;
      let token;
      do {
        const page = await client.send(
          new ListObjectsV2Command({
            Bucket: bucket,
            Prefix: `${prefix}/`,
            ContinuationToken: token,
          }),
        );
        n += page.KeyCount ?? 0;
        token = page.NextContinuationToken;
      } while (token);
      return n;
    },
    close: () => client.destroy(),
  };
}

const running = new Set();
process.on('exit', () => {
  // Whatever happened, no node outlives the benchmark.
  for (const pid of running) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
});

/**
 * Starts `n` `cairn serve` nodes, each on its own fresh `--data`, all on `args` (the shared
 * --catalog and --blobs): the first alone (it claims the seal key and admin token), the others
 * at once. Resolves with the nodes (pid, url, port) and stop() for all of them.
 */
export async function startNodes(n, args) {
  const start = async () => {
    const node = await startCairnTimed(tempDir('cairn-bench-node-'), args);
    running.add(node.pid);
    return { ...node, port: Number(new URL(node.url).port) };
  };
  const first = await start();
  const rest = await Promise.all(Array.from({ length: n - 1 }, start));
  const nodes = [first, ...rest];
  return {
    nodes,
    token: first.token,
    stop: async () => {
      await Promise.all(nodes.map((x) => x.stop()));
      for (const x of nodes) running.delete(x.pid);
    },
  };
}

/**
 * PostgreSQL's counters for database "cairn". Exact at once: `statements` (pg_stat_statements
 * calls), `xids` (transaction ids handed out: write transactions, committed or rolled back)
 * and `wal_bytes` (the WAL insert position). From the cumulative statistics, which a backend
 * flushes at most once a second and an idle one up to 10 s later: `commits` and `rollbacks`
 * (pg_stat_database) and `wal_syncs` (pg_stat_wal: WAL fsyncs). And rows: `inline_rows` (small
 * blobs kept in the catalog) and `artifacts`.
 */
export async function pgCounts(pg) {
  const [x] = await pg.sql(
    `SELECT (SELECT coalesce(sum(calls), 0) FROM pg_stat_statements s
               JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = 'cairn') AS statements,
            pg_snapshot_xmax(pg_current_snapshot())::text AS xids,
            (pg_current_wal_insert_lsn() - '0/0'::pg_lsn)::text AS wal_bytes,
            (SELECT xact_commit FROM pg_stat_database WHERE datname = 'cairn') AS commits,
            (SELECT xact_rollback FROM pg_stat_database WHERE datname = 'cairn') AS rollbacks,
            (SELECT wal_sync FROM pg_stat_wal) AS wal_syncs,
            (SELECT count(*) FROM inline_blobs) AS inline_rows,
            (SELECT count(*) FROM artifacts) AS artifacts`,
  );
  return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, Number(v)]));
}

/** `b - a` for every key of two {@link pgCounts}. */
export const minus = (b, a) => Object.fromEntries(Object.keys(b).map((k) => [k, b[k] - a[k]]));

/**
 * CPU seconds so far of each group of processes: `cairn` (every node), `postgres` (the
 * postmaster and all its backends), `radosgw`, `ceph` (its mon and OSD) and `wrk` (children of
 * this process that have been waited for: the load generator once it exited).
 */
export function cpuNow(nodes, pgPid, ceph) {
  const sum = (pids) => pids.reduce((s, pid) => s + cpuSeconds(pid), 0);
  const self = readFileSync('/proc/self/stat', 'utf8');
  const f = self.slice(self.lastIndexOf(')') + 2).split(' ');
  return {
    cairn: sum(nodes.map((x) => x.pid)),
    postgres: cpuSeconds(pgPid),
    radosgw: sum(ceph.filter((d) => d.name.includes('rgw')).map((d) => d.pid)),
    ceph: sum(ceph.filter((d) => !d.name.includes('rgw')).map((d) => d.pid)),
    wrk: (Number(f[13]) + Number(f[14])) / 100,
  };
}

/** The wrk script. */
export const NODES_LUA = join(ROOT, 'bench/nodes.lua');

/**
 * HTTP requests a node has answered so far, but for its /metrics (reading it must not count as
 * a share of the load): `all`, and by status class (`2xx`, `5xx`, …), from its
 * cairn_http_requests_total.
 */
export async function nodeRequests(node, token) {
  const res = await fetch(`${node.url}/metrics`, { headers: { Authorization: `Bearer ${token}` } });
  if (!res.ok) throw new Error(`${node.url}/metrics answered ${res.status}`);
  const out = { all: 0 };
  for (const line of (await res.text()).split('\n')) {
    if (!line.startsWith('cairn_http_requests_total') || line.includes('/metrics"')) continue;
    const n = Number(line.split(' ').at(-1));
    const status = /status="(\w+)"/.exec(line)?.[1] ?? 'other';
    out.all += n;
    out[status] = (out[status] ?? 0) + n;
  }
  return out;
}
