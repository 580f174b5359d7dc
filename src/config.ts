import { resolve } from 'node:path';

/** Everything `cairn serve` can be told. */
export interface Config {
  /** Data directory (catalog.db, blobs/, tmp/, admin.token, seal.key). */
  dataDir: string;
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
  /** Largest JSON request body, in bytes. */
  maxJsonBytes: number;
  /** Largest request head (request line + headers), in bytes; larger is answered 431. */
  maxHeaderBytes: number;
  /** Time a client has to send the whole request head, in ms; slower is answered 408. */
  headersTimeoutMs: number;
  /** Longest pause while a request body is arriving, in ms; a stalled body is answered 408. */
  bodyIdleTimeoutMs: number;
  /** Write one JSON line per request to stderr. */
  logRequests: boolean;
  /** `HOST:PORT` of the second listener that speaks Artifacta's REST API; none by default. */
  artifactaListen?: string;
  /** Requests a second each key may make on the Artifacta listener (429 above); none by default. */
  artifactaRateLimit?: number;
  /** Requests a key may make at once on the Artifacta listener (default twice the rate). */
  artifactaRateBurst?: number;
  /** Directories the MCP file tools (push_file, pull_artifact) may use over /mcp; none by default. */
  mcpAllowPaths?: string[];
}

/** Defaults: the quick start's `npm start`. */
export const DEFAULTS: Config = {
  dataDir: './cairn-data',
  host: '127.0.0.1',
  port: 7070,
  durability: 'full',
  maxSize: 5 * 1024 ** 4,
  maxJsonBytes: 1024 * 1024,
  maxHeaderBytes: 16 * 1024,
  headersTimeoutMs: 30_000,
  bodyIdleTimeoutMs: 60_000,
  logRequests: false,
  maxShareTtlMs: 30 * 86_400_000,
  sweepIntervalMs: 60_000,
  sweepBatch: 200,
};

/** Fills in defaults and resolves the data dir to an absolute path. */
export function makeConfig(partial: Partial<Config> = {}): Config {
  const c = {
    ...DEFAULTS,
    ...Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined)),
  };
  return { ...c, dataDir: resolve(c.dataDir) };
}
