import { parseWhere } from '../../core/where-parser.js';
import { parseDuration } from '../../lib/duration.js';
import { InvalidInputError } from '../../lib/errors.js';
import { onlyFields, readJson } from '../request.js';
import { sendJson } from '../respond.js';
import type { Ctx, Route } from '../router.js';
import { metaFilters } from './artifact-routes.js';

/** Routes for sessions: create, list, get, update, seal, manifest. */
export function bindSessionRoutes(): Route[] {
  return [
    {
      method: 'POST',
      path: '/v1/sessions',
      access: 'write',
      summary: 'Create a session {id, meta?, ttl?, keep_versions?}',
      handler: create,
    },
    {
      method: 'GET',
      path: '/v1/sessions',
      query: ['sealed', 'q', 'limit', 'cursor', 'where'],
      meta: true,
      access: 'read',
      summary: 'List or query sessions',
      handler: list,
    },
    {
      method: 'GET',
      path: '/v1/sessions/:sid',
      access: 'read',
      summary: 'One session with its artifacts',
      handler: async (c) =>
        sendJson(c.res, 200, await c.app.sessions.getWithArtifacts(c.params.sid)),
    },
    {
      method: 'PATCH',
      path: '/v1/sessions/:sid',
      access: 'write',
      summary: "Change an open session's {meta?, ttl?, keep_versions?}",
      handler: update,
    },
    {
      method: 'POST',
      path: '/v1/sessions/:sid/seal',
      access: 'write',
      summary: 'Seal a session (idempotent)',
      handler: async (c) => sendJson(c.res, 200, await c.app.sessions.seal(c.params.sid)),
    },
    {
      method: 'GET',
      path: '/v1/sessions/:sid/manifest',
      access: 'read',
      summary: 'Canonical manifest (what the digest covers)',
      handler: async (c) => sendJson(c.res, 200, await c.app.sessions.manifest(c.params.sid)),
    },
  ];
}

async function create(c: Ctx): Promise<void> {
  const body = await readJson(c.req, c.app.config.maxJsonBytes);
  onlyFields(
    body,
    ['id', 'meta', 'ttl', 'keep_versions'],
    'a new session takes id, meta, ttl and keep_versions (pin it with PUT /v1/sessions/{sid}/pin)',
  );
  if (typeof body.id !== 'string')
    throw new InvalidInputError(
      'invalid_session_id',
      'body.id (the session id) is required and must be a string',
    );
  c.authorize('write', body.id);
  const rec = await c.app.sessions.create({
    id: body.id,
    meta: metaOf(body.meta),
    ttlMs: ttlOf(body.ttl) ?? undefined,
    keepVersions: keepOf(body.keep_versions),
  });
  sendJson(c.res, 201, rec);
}

async function update(c: Ctx): Promise<void> {
  const body = await readJson(c.req, c.app.config.maxJsonBytes);
  onlyFields(
    body,
    ['meta', 'ttl', 'keep_versions'],
    'a session update takes meta, ttl and keep_versions',
  );
  const keepVersions = keepOf(body.keep_versions);
  let rec = await c.app.sessions.update(c.params.sid, {
    meta: body.meta === undefined ? undefined : metaOf(body.meta),
    ttlMs: ttlOf(body.ttl),
    keepVersions,
  });
  // A new keep-last-N applies at once to the versions already there.
  if (keepVersions && (await c.app.retention.pruneSession(c.params.sid)) > 0)
    rec = await c.app.sessions.get(c.params.sid);
  sendJson(c.res, 200, rec);
}

async function list(c: Ctx): Promise<void> {
  const q = c.query;
  const where = q.str('where');
  sendJson(
    c.res,
    200,
    await c.app.sessions.list({
      sessions: c.reads.glob ?? undefined,
      meta: metaFilters(c.url.searchParams),
      sealed: q.bool('sealed'),
      idContains: q.str('q'),
      limit: q.int('limit', 100, 1, 1000) as number,
      cursor: q.str('cursor'),
      where: where === undefined ? undefined : parseWhere(where),
    }),
  );
}

function metaOf(v: unknown): Record<string, string> | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new InvalidInputError('invalid_meta', 'meta must be an object of string values');
  return v as Record<string, string>;
}

/** `keep_versions` as a number (validated by the service); null clears it. */
function keepOf(v: unknown): number | null | undefined {
  if (v === undefined || v === null) return v;
  if (typeof v !== 'number')
    throw new InvalidInputError(
      'invalid_keep_versions',
      'keep_versions must be a whole number from 1 to 100000, or null',
    );
  return v;
}

/** `ttl` as a duration string; null clears it. */
function ttlOf(v: unknown): number | null | undefined {
  if (v === undefined) return undefined;
  if (v === null) return null;
  if (typeof v !== 'string')
    throw new InvalidInputError('invalid_duration', 'ttl must be a duration string like 7d');
  return parseDuration(v, 'ttl');
}
