import { freshPgDatabase } from './engines/pg.js';
import { testS3, type TestS3 } from './engines/s3.js';
import { spawnServer, tempDir, type ServerProcess } from './server.js';

/** One `cairn serve` process of a {@link Cluster}. */
export interface ClusterNode {
  /** Position in the cluster (stays when the node is restarted). */
  index: number;
  /** The running process (replaced by {@link Cluster.restart}). */
  proc: ServerProcess;
  /** Base URL of the node. */
  url: string;
  /** `fetch` against this node with the admin token (unless `headers.Authorization` given). */
  fetch(path: string, init?: RequestInit): Promise<Response>;
}

/** N real `cairn serve` processes on one PostgreSQL database and one S3 prefix. */
export interface Cluster {
  nodes: ClusterNode[];
  /** The admin token every node accepts (the catalog's bootstrap token). */
  token: string;
  catalogUrl: string;
  blobsUrl: string;
  /** The node for request `i`: requests spread round-robin over the nodes. */
  pick(i: number): ClusterNode;
  /** kill -9 of node `i` (its process exits; the node stays in `nodes`, dead). */
  kill9(i: number): Promise<void>;
  /** Starts node `i` again over its own data dir (after {@link kill9}). */
  restart(i: number): Promise<ClusterNode>;
  /** Lines every node (dead ones included) logged at level error, for failure messages. */
  errors(): string;
  /** SIGTERM every node still running. */
  close(): Promise<void>;
}

/** Options of {@link startCluster}. */
export interface ClusterOptions {
  /**
   * `'dir'`: the nodes share one blob directory (a fresh temp dir) instead of the radosgw
   * prefix. Its deletes cannot outlive their process, so a dead collector's mark is taken over
   * after 60 s (MARK_STALE_MS) rather than the 16 minutes S3 needs.
   */
  blobs?: 's3' | 'dir';
  /** A catalog and an S3 prefix of the test's own instead (engines it may stop, see pg-private.ts). */
  engines?: { catalogUrl: string; s3: TestS3 };
}

/**
 * Starts `n` real `cairn serve` processes (the CLI, `npm run build` first), each with its own
 * `--data` dir, all on one fresh database of the run's PostgreSQL (engines/pg-global.ts) and one
 * fresh key prefix on the run's radosgw (engines/s3-global.ts; or one blob directory, see
 * {@link ClusterOptions.blobs}, or engines of the test's own, {@link ClusterOptions.engines}).
 * The database is dropped when the test finishes; call {@link Cluster.close} in a finally.
 */
export async function startCluster(
  n: number,
  extraArgs: string[] = [],
  opts: ClusterOptions = {},
): Promise<Cluster> {
  const catalogUrl = opts.engines?.catalogUrl ?? (await freshPgDatabase());
  const s3 =
    opts.engines?.s3 ??
    (opts.blobs === 'dir' ? { url: `file:${tempDir('cairn-blobs-')}`, env: {} } : testS3());
  const dirs = Array.from({ length: n }, () => tempDir('cairn-node-'));
  const args = ['--catalog', catalogUrl, '--blobs', s3.url, ...extraArgs];
  const start = (i: number) => spawnServer(dirs[i], args, s3.env);
  const wrap = (index: number, proc: ServerProcess): ClusterNode => ({
    index,
    proc,
    url: proc.url,
    fetch: (path, init = {}) =>
      fetch(proc.url + path, {
        ...init,
        headers: {
          Authorization: `Bearer ${proc.token}`,
          ...(init.headers as Record<string, string>),
        },
      }),
  });
  // The first node claims the seal key and admin token; the others then start at once.
  const first = await start(0);
  const rest = await Promise.all(dirs.slice(1).map((_, i) => start(i + 1)));
  const nodes = [first, ...rest].map((p, i) => wrap(i, p));
  const alive = new Set(nodes.map((x) => x.index));
  const past: string[] = [];
  return {
    nodes,
    token: first.token,
    catalogUrl,
    blobsUrl: s3.url,
    pick: (i) => {
      const live = nodes.filter((x) => alive.has(x.index));
      return live[i % live.length];
    },
    kill9: async (i) => {
      alive.delete(i);
      await nodes[i].proc.kill9();
      past.push(nodes[i].proc.stdout() + nodes[i].proc.stderr());
    },
    restart: async (i) => {
      nodes[i] = wrap(i, await start(i));
      alive.add(i);
      return nodes[i];
    },
    errors: () =>
      [...past, ...nodes.map((x) => x.proc.stdout() + x.proc.stderr())]
        .flatMap((out) => out.split('\n'))
        .filter((l) => /"level":"error"|error/i.test(l))
        .join('\n'),
    close: async () => {
      await Promise.all(
        nodes.filter((x) => alive.has(x.index)).map((x) => x.proc.stop().catch(() => null)),
      );
      alive.clear();
    },
  };
}
