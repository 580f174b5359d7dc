import type { App } from '../../app.js';
import type { ArtifactRecord } from '../../core/types.js';
import { CairnError, InvalidInputError } from '../../lib/errors.js';
import { parseDuration } from '../../lib/duration.js';
import { sendJson } from '../respond.js';
import type { Ctx } from '../router.js';
import { toArtifactaRecord, type ArtifactaRecord } from './artifacta-record.js';

/** Sends a JSON answer. */
export function reply(c: Ctx, status: number, body: unknown): void {
  sendJson(c.res, status, body);
}

/** Cairn records in Artifacta's shape, each under its `art_` id. */
export async function artifactaRecords(
  app: App,
  recs: ArtifactRecord[],
): Promise<ArtifactaRecord[]> {
  const ids = await app.artifacta.artifactIds(recs);
  return recs.map((r) => toArtifactaRecord(r, ids.get(r.id) as string));
}

/** One Cairn record in Artifacta's shape. */
export async function artifactaRecord(app: App, rec: ArtifactRecord): Promise<ArtifactaRecord> {
  return (await artifactaRecords(app, [rec]))[0];
}

/**
 * An Artifacta TTL (`7d`, `30d`, `24h`, or `never`) in ms (null for never; undefined when
 * absent). A server started with `--default-ttl` keeps nothing longer: a longer TTL, or
 * `never`, is 400 `ttl_exceeds_plan_limit`.
 */
export function ttlOf(app: App, value: unknown): number | null | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string')
    throw new InvalidInputError('invalid_request', "ttl must be a string like '7d' or 'never'");
  const ms = value === 'never' ? null : parseDuration(value, 'ttl');
  const max = app.config.defaultTtlMs;
  if (max !== undefined && (ms === null || ms > max))
    throw new InvalidInputError(
      'ttl_exceeds_plan_limit',
      `this server keeps artifacts at most ${Math.floor(max / 86_400_000)}d (${max / 1000} s); send a shorter ttl`,
    );
  return ms;
}

/** The origin this listener was reached at, for the URLs it hands out. */
export function origin(c: Ctx): string {
  const host = c.req.headers.host;
  if (!host || !/^[A-Za-z0-9.:[\]-]{1,300}$/.test(host))
    throw new InvalidInputError('invalid_request', 'a Host header is required');
  return `http://${host}`;
}

/** A string field of a JSON body (or undefined); throws `invalid_request` naming it. */
export function str(b: Record<string, unknown>, key: string, required = false): string | undefined {
  const v = b[key];
  if (v === undefined || v === null) {
    if (required) throw new InvalidInputError('invalid_request', `Missing required field '${key}'`);
    return undefined;
  }
  if (typeof v !== 'string')
    throw new InvalidInputError('invalid_request', `${key} must be a string`);
  return v;
}

/** 400 invalid_request unless `name` is 1-255 characters. */
export function checkFilename(name: string): string {
  if (name.length < 1 || name.length > 255)
    throw new InvalidInputError('invalid_request', 'filename must be 1-255 characters');
  return name;
}

/** Throws 413 `file_too_large`. */
export function tooLarge(limit: number): CairnError {
  return new CairnError(
    'file_too_large',
    413,
    `the file is larger than this endpoint's ${limit} bytes`,
  );
}
