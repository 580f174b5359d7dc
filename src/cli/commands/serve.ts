import type { Argv, CommandModule } from 'yargs';
import { parseDuration } from '../../lib/duration.js';
import { parseSize } from '../../lib/size.js';
import { InvalidInputError } from '../../lib/errors.js';
import { asUsage, checkedFlag } from '../util.js';
import type { Config } from '../../config.js';

interface ServeArgs {
  data: string;
  catalog?: string;
  blobs?: string;
  host: string;
  port: number;
  'public-url'?: string;
  'default-ttl'?: string;
  'max-share-ttl'?: string;
  'keep-versions'?: number;
  'sweep-interval'?: string;
  'max-size'?: string;
  'max-header-size'?: string;
  'headers-timeout'?: string;
  'body-timeout'?: string;
  'query-timeout'?: string;
  'max-upload-memory'?: string;
  durability: string;
  log: boolean;
  'mcp-allow-path'?: string[];
  'artifacta-listen'?: string;
  'artifacta-rate-limit'?: number;
  'artifacta-rate-burst'?: number;
}

/** `cairn serve`: runs the server until SIGINT/SIGTERM, then closes the catalog cleanly. */
export const serveCommand: CommandModule<object, ServeArgs> = {
  command: 'serve',
  describe: 'Run the Cairn server (HTTP API, browse page, MCP at /mcp)',
  builder: (y: Argv) =>
    y
      .option('data', {
        type: 'string',
        default: process.env.CAIRN_DATA ?? './cairn-data',
        describe: 'Data directory',
      })
      .option('catalog', {
        type: 'string',
        default: process.env.CAIRN_CATALOG || undefined,
        defaultDescription: 'sqlite:<data>/catalog.db',
        describe: 'Catalog by URL: sqlite:/path/catalog.db',
        coerce: checkedFlag('--catalog', (v: string) => v),
      })
      .option('blobs', {
        type: 'string',
        default: process.env.CAIRN_BLOBS || undefined,
        defaultDescription: 'file:<data>',
        describe: 'Blob store by URL: file:/path/dir (holds blobs/ and tmp/)',
        coerce: checkedFlag('--blobs', (v: string) => v),
      })
      .option('host', {
        type: 'string',
        default: process.env.CAIRN_HOST ?? '127.0.0.1',
        describe: 'Address to listen on',
      })
      .option('port', {
        type: 'number',
        default: Number(process.env.CAIRN_PORT ?? 7070),
        describe: 'Port (0 = any free port)',
      })
      .option('public-url', {
        type: 'string',
        describe: 'Base URL for links the server hands out (reverse proxy)',
      })
      .option('default-ttl', {
        type: 'string',
        describe: 'TTL for artifacts pushed without one, e.g. 30d',
      })
      .option('max-share-ttl', {
        type: 'string',
        describe: 'Longest lifetime of a share link (longer requests are capped), default 30d',
      })
      .option('keep-versions', {
        type: 'number',
        describe: 'Keep only the newest N versions of each name (a session setting wins)',
      })
      .option('sweep-interval', {
        type: 'string',
        describe: 'How often expired things are removed in the background, default 60s',
      })
      .option('max-size', { type: 'string', describe: 'Largest artifact accepted, e.g. 5GiB' })
      .option('max-header-size', {
        type: 'string',
        describe: 'Largest request head (431 above it), default 16KiB',
      })
      .option('headers-timeout', {
        type: 'string',
        describe: 'Time to send a request head (408 after it), default 30s',
      })
      .option('body-timeout', {
        type: 'string',
        describe: 'Longest pause inside a request body (408 after it), default 60s',
      })
      .option('query-timeout', {
        type: 'string',
        default: process.env.CAIRN_QUERY_TIMEOUT,
        describe: 'Longest a query may run (400 query_too_expensive after it), default 2s',
      })
      .option('max-upload-memory', {
        type: 'string',
        describe:
          'Memory uploads and imports in flight may hold at once (503 past it), default 256MiB [CAIRN_MAX_UPLOAD_MEMORY]',
      })
      .option('durability', {
        choices: ['full', 'process'],
        default: 'full',
        describe: 'full: fsync before acknowledging; process: survive kill -9 only',
      })
      .option('mcp-allow-path', {
        type: 'string',
        array: true,
        describe: 'Directory the MCP file tools may use over /mcp (repeatable; default none)',
      })
      .option('artifacta-listen', {
        type: 'string',
        default: process.env.CAIRN_ARTIFACTA_LISTEN || undefined,
        describe: "Also serve Artifacta's REST API at HOST:PORT (for its CLI, SDK and MCP server)",
      })
      .option('artifacta-rate-limit', {
        type: 'number',
        describe: 'Requests a second each key may make on the Artifacta listener (429 above)',
      })
      .option('artifacta-rate-burst', {
        type: 'number',
        describe: 'Requests a key may make at once there (default twice the rate)',
      })
      .option('log', {
        type: 'boolean',
        default: false,
        describe: 'Log one JSON line per request to stderr',
      }),
  handler: async (args) => {
    const { createApp } = await import('../../app.js');
    const { startServer } = await import('../../server/http-server.js');
    const { catalogRegistry } = await import('../../catalog/catalog-registry.js');
    const { blobStoreRegistry } = await import('../../blobs/blob-store-registry.js');
    // An unknown scheme is a usage error (exit 2), like any bad flag value.
    asUsage(() => {
      if (args.catalog !== undefined) catalogRegistry.check(args.catalog);
      if (args.blobs !== undefined) blobStoreRegistry.check(args.blobs);
    });
    if (args['mcp-allow-path']?.length) {
      // Fail at start, not on the first /mcp request, if a directory is missing.
      const { PathGuard } = await import('../../mcp/path-guard.js');
      const dirs = args['mcp-allow-path'];
      asUsage(() => new PathGuard(dirs, { deny: [args.data] }));
    }
    const { startArtifactaServer, parseListen } =
      await import('../../server/artifacta/artifacta-server.js');
    const listen = args['artifacta-listen'];
    if (listen) asUsage(() => parseListen(listen));
    // A bad flag value is a usage error (exit 2), found before the data directory is touched.
    const app = await createApp(asUsage(() => appOptions(args)));
    const server = await startServer(app);
    const artifacta = listen ? await startArtifactaServer(app, listen) : null;
    let stopping = false;
    const stop = async () => {
      if (stopping) return;
      stopping = true;
      await Promise.race([
        Promise.all([server.close(), artifacta?.close()]),
        new Promise((r) => setTimeout(r, 5000)),
      ]);
      await app.close();
      process.stdout.write('Cairn stopped\n');
      process.exit(0);
    };
    // Before announcing the address: a supervisor may signal as soon as it reads it.
    process.on('SIGINT', () => void stop());
    process.on('SIGTERM', () => void stop());
    process.stdout.write(`Cairn listening on ${server.url}\n`);
    if (artifacta) process.stdout.write(`Artifacta API listening on ${artifacta.url}\n`);
    process.stdout.write(`data: ${app.config.dataDir}\n`);
    const tokenPath = `${app.config.dataDir}/admin.token`;
    process.stdout.write(
      app.createdAdminToken
        ? `admin token written to ${tokenPath} (mode 0600)\n`
        : `admin token: ${tokenPath} (created at first start)\n`,
    );
    await new Promise(() => undefined);
  },
};

/** The server's configuration from the command line (throws on a bad value). */
function appOptions(args: ServeArgs): Partial<Config> {
  return {
    dataDir: args.data,
    catalogUrl: args.catalog,
    blobsUrl: args.blobs,
    host: args.host,
    port: args.port,
    publicUrl: args['public-url'],
    defaultTtlMs: ms(args['default-ttl'], '--default-ttl'),
    maxSize: args['max-size'] ? parseSize(args['max-size'], '--max-size') : undefined,
    maxHeaderBytes: args['max-header-size']
      ? parseSize(args['max-header-size'], '--max-header-size')
      : undefined,
    headersTimeoutMs: ms(args['headers-timeout'], '--headers-timeout'),
    bodyIdleTimeoutMs: ms(args['body-timeout'], '--body-timeout'),
    queryTimeoutMs: ms(args['query-timeout'], '--query-timeout'),
    maxUploadMemory: uploadMemoryFlag(
      args['max-upload-memory'] ?? process.env.CAIRN_MAX_UPLOAD_MEMORY,
    ),
    maxShareTtlMs: ms(args['max-share-ttl'], '--max-share-ttl'),
    keepVersions: keepVersionsFlag(args['keep-versions']),
    sweepIntervalMs: ms(args['sweep-interval'], '--sweep-interval'),
    durability: args.durability as 'full' | 'process',
    logRequests: args.log,
    mcpAllowPaths: args['mcp-allow-path'],
    artifactaListen: args['artifacta-listen'],
    artifactaRateLimit: positive(args['artifacta-rate-limit'], '--artifacta-rate-limit'),
    artifactaRateBurst: positive(args['artifacta-rate-burst'], '--artifacta-rate-burst'),
  };
}

/** A duration flag in ms (undefined if not given). */
function ms(text: string | undefined, flag: string): number | undefined {
  return text ? parseDuration(text, flag) : undefined;
}

/** `--max-upload-memory S` (or CAIRN_MAX_UPLOAD_MEMORY): at least 8 MiB, room for a few uploads. */
function uploadMemoryFlag(text: string | undefined): number | undefined {
  if (!text) return undefined;
  const bytes = parseSize(text, '--max-upload-memory');
  if (bytes < 8 * 1024 * 1024)
    throw new InvalidInputError(
      'invalid_max_upload_memory',
      '--max-upload-memory must be at least 8MiB (each upload in progress may hold about 1 MiB)',
    );
  return bytes;
}

/** `--keep-versions N`: a whole number from 1 to 100000. */
function keepVersionsFlag(n: number | undefined): number | undefined {
  if (n === undefined) return undefined;
  if (!Number.isInteger(n) || n < 1 || n > 100_000)
    throw new InvalidInputError(
      'invalid_keep_versions',
      '--keep-versions must be a whole number from 1 to 100000',
    );
  return n;
}

/** A positive number flag (undefined if not given). */
function positive(n: number | undefined, flag: string): number | undefined {
  if (n === undefined) return undefined;
  if (!Number.isFinite(n) || n <= 0)
    throw new InvalidInputError('invalid_request', `${flag} must be a number above 0`);
  return n;
}
