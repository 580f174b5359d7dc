import { delimiter } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { asUsage, checkedFlag } from '../util.js';
import { startupError } from '../startup-error.js';
import { appOptions, type ServeArgs } from '../serve-options.js';

/** `cairn serve`: runs the server until SIGINT/SIGTERM, then closes the catalog cleanly. */
export const serveCommand: CommandModule<object, ServeArgs> = {
  command: 'serve',
  describe: 'Run the Cairn server (HTTP API, browse page, MCP at /mcp)',
  builder: (y: Argv) =>
    y
      .option('data', {
        type: 'string',
        default: env('DATA') ?? './cairn-data',
        describe: 'Data directory (CAIRN_DATA)',
      })
      .option('catalog', {
        type: 'string',
        default: env('CATALOG'),
        defaultDescription: 'sqlite:<data>/catalog.db',
        describe: 'Catalog by URL: sqlite:/path/catalog.db (CAIRN_CATALOG)',
        coerce: checkedFlag('--catalog', (v: string) => v),
      })
      .option('blobs', {
        type: 'string',
        default: env('BLOBS'),
        defaultDescription: 'file:<data>',
        describe: 'Blob store by URL: file:/path/dir, holding blobs/ and tmp/ (CAIRN_BLOBS)',
        coerce: checkedFlag('--blobs', (v: string) => v),
      })
      .option('host', {
        type: 'string',
        default: env('HOST') ?? '127.0.0.1',
        describe: 'Address to listen on (CAIRN_HOST)',
      })
      .option('port', {
        type: 'number',
        default: Number(env('PORT') ?? 7070),
        describe: 'Port, 0 = any free port (CAIRN_PORT)',
        coerce: checkedFlag('--port', (p: number) => {
          if (!Number.isInteger(p) || p < 0 || p > 65535)
            throw new Error('--port must be a whole number from 0 to 65535 (0: any free port)');
        }),
      })
      .option('public-url', {
        type: 'string',
        default: env('PUBLIC_URL'),
        describe: 'Base URL for links the server hands out (reverse proxy) (CAIRN_PUBLIC_URL)',
      })
      .option('default-ttl', {
        type: 'string',
        default: env('DEFAULT_TTL'),
        describe: 'TTL for artifacts pushed without one, e.g. 30d (CAIRN_DEFAULT_TTL)',
      })
      .option('max-share-ttl', {
        type: 'string',
        default: env('MAX_SHARE_TTL'),
        describe:
          'Longest lifetime of a share link (longer requests are capped), default 30d (CAIRN_MAX_SHARE_TTL)',
      })
      .option('keep-versions', {
        type: 'number',
        default: env('KEEP_VERSIONS') === undefined ? undefined : Number(env('KEEP_VERSIONS')),
        describe:
          'Keep only the newest N versions of each name, a session setting wins (CAIRN_KEEP_VERSIONS)',
      })
      .option('sweep-interval', {
        type: 'string',
        default: env('SWEEP_INTERVAL'),
        describe:
          'How often expired things are removed in the background, default 60s (CAIRN_SWEEP_INTERVAL)',
      })
      .option('max-size', {
        type: 'string',
        default: env('MAX_SIZE'),
        describe: 'Largest artifact accepted, e.g. 5GiB (CAIRN_MAX_SIZE)',
      })
      .option('max-header-size', {
        type: 'string',
        default: env('MAX_HEADER_SIZE'),
        describe: 'Largest request head (431 above it), default 16KiB (CAIRN_MAX_HEADER_SIZE)',
      })
      .option('headers-timeout', {
        type: 'string',
        default: env('HEADERS_TIMEOUT'),
        describe: 'Time to send a request head (408 after it), default 30s (CAIRN_HEADERS_TIMEOUT)',
      })
      .option('body-timeout', {
        type: 'string',
        default: env('BODY_TIMEOUT'),
        describe:
          'Longest pause inside a request body (408 after it), default 60s (CAIRN_BODY_TIMEOUT)',
      })
      .option('query-timeout', {
        type: 'string',
        default: env('QUERY_TIMEOUT'),
        describe:
          'Longest a query may run (400 query_too_expensive after it), default 2s (CAIRN_QUERY_TIMEOUT)',
      })
      .option('max-upload-memory', {
        type: 'string',
        default: env('MAX_UPLOAD_MEMORY'),
        describe:
          'Memory uploads and imports in flight may hold at once (503 past it), default 256MiB (CAIRN_MAX_UPLOAD_MEMORY)',
      })
      .option('shutdown-grace', {
        type: 'string',
        default: env('SHUTDOWN_GRACE'),
        describe:
          'On SIGTERM/SIGINT, time requests in flight get before connections are cut (commits underway still finish), default 10s (CAIRN_SHUTDOWN_GRACE)',
      })
      .option('durability', {
        choices: ['full', 'process'],
        default: env('DURABILITY') ?? 'full',
        describe:
          'full: fsync before acknowledging; process: survive kill -9 only (CAIRN_DURABILITY)',
      })
      .option('mcp-allow-path', {
        type: 'string',
        array: true,
        // An array option's default of undefined would read as one path 'undefined'.
        ...(env('MCP_ALLOW_PATH')
          ? { default: env('MCP_ALLOW_PATH')?.split(delimiter).filter(Boolean) }
          : {}),
        describe:
          'Directory the MCP file tools may use over /mcp; repeatable, default none (CAIRN_MCP_ALLOW_PATH, several joined by :)',
      })
      .option('artifacta-listen', {
        type: 'string',
        default: env('ARTIFACTA_LISTEN'),
        describe:
          "Also serve Artifacta's REST API at HOST:PORT, for its CLI, SDK and MCP server (CAIRN_ARTIFACTA_LISTEN)",
      })
      .option('artifacta-rate-limit', {
        type: 'number',
        default:
          env('ARTIFACTA_RATE_LIMIT') === undefined
            ? undefined
            : Number(env('ARTIFACTA_RATE_LIMIT')),
        describe:
          'Requests a second each key may make on the Artifacta listener, 429 above (CAIRN_ARTIFACTA_RATE_LIMIT)',
      })
      .option('artifacta-rate-burst', {
        type: 'number',
        default:
          env('ARTIFACTA_RATE_BURST') === undefined
            ? undefined
            : Number(env('ARTIFACTA_RATE_BURST')),
        describe:
          'Requests a key may make at once there, default twice the rate (CAIRN_ARTIFACTA_RATE_BURST)',
      })
      .option('log', {
        type: 'boolean',
        default: ['1', 'true'].includes(env('LOG') ?? ''),
        describe: 'Log one JSON line per request to stderr (CAIRN_LOG=1)',
      })
      // The client's options mean nothing to the server: not in its --help.
      .hide('url')
      .hide('token')
      .hide('json')
      .hide('quiet')
      .hide('format'),
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
    const opts = asUsage(() => appOptions(args));
    const at = { dataDir: args.data, host: args.host, port: args.port };
    const app = await createApp(opts).catch((err: unknown) => {
      throw startupError(err, at);
    });
    const server = await startServer(app).catch(async (err: unknown) => {
      await app.close();
      throw startupError(err, at);
    });
    const artifacta = listen
      ? await startArtifactaServer(app, listen).catch(async (err: unknown) => {
          await server.close();
          await app.close();
          throw startupError(err, { ...at, ...parseListen(listen) });
        })
      : null;
    let stopping = false;
    const stop = async () => {
      if (stopping) return;
      stopping = true;
      // Bounded by the grace period, except for commits underway: they finish and answer first.
      await Promise.all([server.close(), artifacta?.close()]);
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

/** `CAIRN_<name>` from the environment; unset or empty is undefined. */
function env(name: string): string | undefined {
  return process.env[`CAIRN_${name}`] || undefined;
}
