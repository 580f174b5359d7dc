import { join, resolve } from 'node:path';
import { localUrl } from './lib/backend-registry.js';

/** Everything `cairn serve` can be told. */
export interface Config {
  /**
   * Data directory: admin.token, seal.key, the lock, and by default the catalog (catalog.db)
   * and blobs (blobs/, tmp/).
   */
  dataDir: string;
  /** Where the catalog is, by URL (see catalogRegistry); default `sqlite:<dataDir>/catalog.db`. */
  catalogUrl: string;
  /** Where the blobs are, by URL (see blobStoreRegistry); default `file:<dataDir>`. */
  blobsUrl: string;
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** Base URL for links the server hands out (share links), e.g. behind a reverse proxy. */
  publicUrl?: string;
  /** `full` fsyncs before acknowledging (survives power loss); `process` survives kill -9 only. */
  durability: 'full' | 'process';
  /** Largest artifact accepted, in bytes. */
  maxSize: number;
  /** TTL for artifacts pushed without one, in ms. */
  defaultTtlMs?: number;
  /** Keep only the newest N versions of each name (a session's keep_versions wins). */
  keepVersions?: number;
  /** Longest lifetime of a share link, in ms; longer requests are capped to it. */
  maxShareTtlMs: number;
  /** How often the background sweeper removes expired things, in ms. */
  sweepIntervalMs: number;
  /** Rows per sweep transaction (bounded so a sweep never stalls pushes). */
  sweepBatch: number;
  /**
   * Bytes that uploads and imports in flight may hold in memory at once (upload buffers,
   * import documents); a request that would pass it is refused with 503 and `Retry-After`.
   */
  maxUploadMemory: number;
  /** Largest JSON request body, in bytes. */
  maxJsonBytes: number;
  /** Largest request head (request line + headers), in bytes; larger is answered 431. */
  maxHeaderBytes: number;
  /** Time a client has to send the whole request head, in ms; slower is answered 408. */
  headersTimeoutMs: number;
  /** Longest pause while a request body is arriving, in ms; a stalled body is answered 408. */
  bodyIdleTimeoutMs: number;
  /** Longest a query may run before it is stopped and answered 400 `query_too_expensive`, in ms. */
  queryTimeoutMs: number;
  /** Write one JSON line per request to stderr. */
  logRequests: boolean;
  /**
   * On stop, how long requests in flight get to finish, in ms; then connections are cut,
   * except those of writes whose commit may be underway (they end once answered).
   */
  shutdownGraceMs: number;
  /** `HOST:PORT` of the second listener that speaks Artifacta's REST API; none by default. */
  artifactaListen?: string;
  /** Requests a second each key may make on the Artifacta listener (429 above); none by default. */
  artifactaRateLimit?: number;
  /** Requests a key may make at once on the Artifacta listener (default twice the rate). */
  artifactaRateBurst?: number;
  /** Directories the MCP file tools (push_file, pull_artifact) may use over /mcp; none by default. */
  mcpAllowPaths?: string[];
}

/** Defaults: the quick start's `npm start` (the backend URLs follow the data dir). */
export const DEFAULTS: Omit<Config, 'catalogUrl' | 'blobsUrl'> = {
  dataDir: './cairn-data',
  host: '127.0.0.1',
  port: 7070,
  durability: 'full',
  maxSize: 5 * 1024 ** 4,
  maxJsonBytes: 1024 * 1024,
  maxUploadMemory: 256 * 1024 * 1024,
  maxHeaderBytes: 16 * 1024,
  headersTimeoutMs: 30_000,
  bodyIdleTimeoutMs: 60_000,
  queryTimeoutMs: 2000,
  logRequests: false,
  shutdownGraceMs: 10_000,
  maxShareTtlMs: 30 * 86_400_000,
  sweepIntervalMs: 60_000,
  sweepBatch: 200,
};

/**
 * Fills in defaults and resolves the data dir to an absolute path; the catalog and blob URLs
 * default to the SQLite file and blob directory inside it.
 */
export function makeConfig(partial: Partial<Config> = {}): Config {
  const given = Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined));
  const c = { ...DEFAULTS, ...given } as Config;
  const dataDir = resolve(c.dataDir);
  return {
    ...c,
    dataDir,
    catalogUrl: c.catalogUrl ?? localUrl('sqlite:', join(dataDir, 'catalog.db')),
    blobsUrl: c.blobsUrl ?? localUrl('file:', dataDir),
  };
}
