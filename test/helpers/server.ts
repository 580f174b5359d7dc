import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createApp, type App } from '../../src/app.js';
import type { Config } from '../../src/config.js';
import { startServer, type RunningServer } from '../../src/server/http-server.js';
import { releaseTestCatalog, testCatalogUrl } from './engines/pg.js';
import { testS3 } from './engines/s3.js';

/** Repository root (tests run from anywhere). */
export const ROOT = resolve(import.meta.dirname, '../..');
/**
 * The CLI entry (needs `npm run build` first; `npm test` does it). CAIRN_TEST_CLI points long
 * harness runs at a private build, out of reach of rebuilds of the shared build/.
 */
export const CLI = process.env.CAIRN_TEST_CLI || join(ROOT, 'bin/cairn.js');

/** A fresh temp directory (the test removes it, or the run does at its end). */
export function tempDir(prefix = 'cairn-test-'): string {
  // Inside the run's own directory when vitest runs (removed at its end, see global-tmp.ts).
  return mkdtempSync(join(process.env.CAIRN_TEST_TMP ?? tmpdir(), prefix));
}

/**
 * The blob store tests use when they name none: with CAIRN_TEST_BLOBS=s3, a fresh prefix on
 * the run's radosgw (see engines/s3-global.ts; credentials go into process.env), so the HTTP
 * tests can be run against S3; else undefined (the data dir's files).
 */
export function testBlobsUrl(): string | undefined {
  if (process.env.CAIRN_TEST_BLOBS !== 's3') return undefined;
  const s3 = testS3();
  Object.assign(process.env, s3.env);
  return s3.url;
}

/** An in-process server on port 0 over a fresh temp data dir. */
export interface TestServer {
  app: App;
  server: RunningServer;
  url: string;
  /** The admin token created at first start. */
  token: string;
  dataDir: string;
  /** fetch against the server with the admin token (unless `headers.Authorization` given). */
  fetch(path: string, init?: RequestInit): Promise<Response>;
  close(): Promise<void>;
}

/**
 * Starts a real Cairn (real SQLite file, real blob files) on a free port. With
 * CAIRN_TEST_CATALOG=postgres the catalog is a database of its own on the run's PostgreSQL
 * instead (the same one again for a restart over the same data dir), unless `catalogUrl` is
 * given.
 */
export async function startTestServer(
  config: Partial<Config> = {},
  opts: { clock?: () => number } = {},
): Promise<TestServer> {
  const dataDir = config.dataDir ?? tempDir();
  const catalogUrl = config.catalogUrl ?? (await testCatalogUrl(dataDir));
  const blobsUrl = config.blobsUrl ?? testBlobsUrl();
  const app = await createApp({ port: 0, ...config, dataDir, catalogUrl, blobsUrl }, opts);
  const server = await startServer(app);
  const token = readFileSync(join(dataDir, 'admin.token'), 'utf8').trim();
  return {
    app,
    server,
    url: server.url,
    token,
    dataDir,
    fetch: (path, init = {}) =>
      fetch(server.url + path, {
        ...init,
        headers: { Authorization: `Bearer ${token}`, ...(init.headers as Record<string, string>) },
      }),
    close: async () => {
      await server.close();
      await app.close();
      if (!config.dataDir) {
        rmSync(dataDir, { recursive: true, force: true });
        await releaseTestCatalog(dataDir);
      }
    },
  };
}

/** A `cairn serve` child process (the real CLI), for crash and CLI tests. */
export interface ServerProcess {
  child: ChildProcess;
  url: string;
  token: string;
  dataDir: string;
  /** Everything the server printed to stdout so far. */
  stdout(): string;
  /** Everything the server printed to stderr so far (its log). */
  stderr(): string;
  /** SIGTERM and wait for exit. */
  stop(): Promise<number | null>;
  /** SIGKILL and wait for exit. */
  kill9(): Promise<void>;
}

/**
 * Spawns `node bin/cairn.js serve --port 0 --data DIR` and waits until it listens. With
 * CAIRN_TEST_CATALOG=postgres (and no `--catalog` in `extraArgs`) the catalog is the data
 * dir's database on the run's PostgreSQL (see testCatalogUrl). `cli`: another build's entry
 * (an older version's, for upgrade tests).
 */
export async function spawnServer(
  dataDir: string,
  extraArgs: string[] = [],
  env: NodeJS.ProcessEnv = {},
  cli = CLI,
): Promise<ServerProcess> {
  const own = extraArgs.includes('--catalog') || env.CAIRN_CATALOG !== undefined;
  const catalog = own ? undefined : await testCatalogUrl(dataDir);
  const child = spawn(
    process.execPath,
    [
      cli,
      'serve',
      '--port',
      '0',
      '--data',
      dataDir,
      ...(catalog ? ['--catalog', catalog] : []),
      ...extraArgs,
    ],
    {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const url = await new Promise<string>((res, rej) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL'); // not left running once the caller gave up on it
      rej(new Error(`server did not start in 20 s: ${out} ${err}`));
    }, 20_000);
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        res(m[1]);
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      rej(new Error(`server exited with ${code}: ${out} ${err}`));
    });
  });
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return {
    child,
    url,
    dataDir,
    stdout: () => out,
    stderr: () => err,
    token: readFileSync(join(dataDir, 'admin.token'), 'utf8').trim(),
    stop: async () => {
      child.kill('SIGTERM');
      return exited;
    },
    kill9: async () => {
      child.kill('SIGKILL');
      await exited;
    },
  };
}
