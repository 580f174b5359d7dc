import type { Config } from '../config.js';
import { parseDuration } from '../lib/duration.js';
import { InvalidInputError } from '../lib/errors.js';
import { parseSize } from '../lib/size.js';

/** `cairn serve`'s parsed flags (each also read from its CAIRN_* variable). */
export interface ServeArgs {
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
  'shutdown-grace'?: string;
  durability: string;
  log: boolean;
  'mcp-allow-path'?: string[];
  'artifacta-listen'?: string;
  'artifacta-rate-limit'?: number;
  'artifacta-rate-burst'?: number;
}

/**
 * The server's configuration from `cairn serve`'s flags. Throws InvalidInputError on a bad
 * value (the command turns it into a usage error before the data directory is touched).
 */
export function appOptions(args: ServeArgs): Partial<Config> {
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
    maxUploadMemory: uploadMemoryFlag(args['max-upload-memory']),
    maxShareTtlMs: ms(args['max-share-ttl'], '--max-share-ttl'),
    keepVersions: keepVersionsFlag(args['keep-versions']),
    sweepIntervalMs: ms(args['sweep-interval'], '--sweep-interval'),
    durability: args.durability as 'full' | 'process',
    logRequests: args.log,
    shutdownGraceMs: ms(args['shutdown-grace'], '--shutdown-grace'),
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
