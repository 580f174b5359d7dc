import type { ArtifactQuery, MetaFilter } from '../../core/types.js';
import { validateMetaKey, validateSessionId } from '../../core/validate.js';
import { parseWhere } from '../../core/where-parser.js';
import { InvalidInputError } from '../../lib/errors.js';
import { sendJson } from '../respond.js';
import type { Ctx, Route } from '../router.js';
import { serveArtifact } from '../serve-content.js';
import { streamLatestFiles } from './batch-download.js';
import { streamLatestList } from './latest-list.js';
import { pushBatchRoute } from './batch-route.js';
import { push } from './push-route.js';

/** Routes for pushing, reading, querying and deleting artifacts. */
export function bindArtifactRoutes(): Route[] {
  return [
    {
      method: 'PUT',
      path: '/v1/sessions/:sid/artifacts/*name',
      query: ['ttl', 'derived_from', 'sha256'],
      meta: true,
      access: 'write',
      summary: 'Push an artifact (raw body)',
      handler: push,
    },
    {
      method: 'POST',
      path: '/v1/sessions/:sid/batch',
      query: ['ttl', 'derived_from'],
      meta: true,
      access: 'write',
      summary: 'Push many artifacts at once (a tar stream; all or none)',
      handler: pushBatchRoute,
    },
    {
      method: 'GET',
      path: '/v1/sessions/:sid/batch',
      access: 'read',
      summary: 'The latest version of every artifact of a session, as one tar (the batch format)',
      handler: streamLatestFiles,
    },
    {
      method: 'GET',
      path: '/v1/sessions/:sid/latest',
      access: 'read',
      summary:
        'The sha256 and name of every latest artifact of a session, one per line (text/plain)',
      handler: streamLatestList,
    },
    {
      method: 'GET',
      path: '/v1/sessions/:sid/artifacts/*name',
      query: ['version', 'download'],
      access: 'read',
      summary: 'Bytes of the latest (or ?version=N) version',
      handler: readByName,
    },
    {
      method: 'GET',
      path: '/v1/artifacts',
      query: ['session', 'type', 'name', 'since', 'until', 'latest', 'limit', 'cursor', 'where'],
      meta: true,
      access: 'read',
      summary: 'Query artifacts',
      handler: query,
    },
    {
      method: 'GET',
      path: '/v1/artifacts/:id',
      access: 'read',
      summary: 'One artifact record',
      handler: async (c) =>
        sendJson(c.res, 200, c.reads.artifact(await c.app.artifacts.get(c.params.id))),
    },
    {
      method: 'GET',
      path: '/v1/artifacts/:id/content',
      query: ['download'],
      access: 'read',
      summary: 'Bytes of one artifact',
      handler: readById,
    },
    {
      method: 'DELETE',
      path: '/v1/artifacts/:id',
      access: 'write',
      summary: 'Delete an artifact of an open session',
      handler: remove,
    },
    {
      method: 'HEAD',
      path: '/v1/blobs/:sha256',
      access: 'read',
      summary: 'Does the store hold these bytes?',
      handler: headBlob,
    },
  ];
}

async function readByName(c: Ctx): Promise<void> {
  const q = c.query;
  const rec = await c.app.artifacts.find(
    c.params.sid,
    c.params.name,
    q.int('version', undefined, 1, 2 ** 31),
  );
  await serveArtifact(c.req, c.res, c.app.artifacts, rec, { attachment: q.bool('download') });
}

async function readById(c: Ctx): Promise<void> {
  const q = c.query;
  const rec = c.reads.artifact(await c.app.artifacts.get(c.params.id));
  await serveArtifact(c.req, c.res, c.app.artifacts, rec, { attachment: q.bool('download') });
}

async function remove(c: Ctx): Promise<void> {
  const rec = c.reads.artifact(await c.app.artifacts.get(c.params.id));
  c.authorize('write', rec.session);
  sendJson(c.res, 200, await c.app.artifacts.delete(c.params.id));
}

async function headBlob(c: Ctx): Promise<void> {
  // A token that reads only some sessions is told only of bytes those sessions hold.
  const has = await c.app.artifacts.hasBlob(c.params.sha256, c.reads.glob ?? undefined);
  c.res.writeHead(has ? 200 : 404, { 'Cache-Control': 'no-store' });
  c.res.end();
}

/** Parses `meta.KEY=VALUE`, `meta.KEY=PREFIX*` and `meta.KEY` (exists) parameters. */
export function metaFilters(params: URLSearchParams): MetaFilter[] {
  const out: MetaFilter[] = [];
  for (const [k, v] of params) {
    if (!k.startsWith('meta.')) continue;
    const key = validateMetaKey(k.slice(5));
    if (v === '') out.push({ key, op: 'exists' });
    else if (v.endsWith('*')) out.push({ key, op: 'prefix', value: v.slice(0, -1) });
    else out.push({ key, op: 'eq', value: v });
  }
  if (out.length > 16)
    throw new InvalidInputError('invalid_query', 'at most 16 metadata filters per query');
  return out;
}

async function query(c: Ctx): Promise<void> {
  const q = c.query;
  const now = c.app.clock();
  // The media type: parameters (`; charset=utf-8`) and case do not matter.
  const type = q.str('type')?.split(';')[0].trim().toLowerCase();
  if (type !== undefined && !/^[\w.+-]+\/(\*|[\w.+-]+)$/.test(type)) {
    throw new InvalidInputError(
      'invalid_type',
      'type must be a media type like application/json or a family like image/*',
    );
  }
  const where = q.str('where');
  const session = q.str('session');
  // `session=` names none: an empty answer would look like an empty session.
  if (session !== undefined) validateSessionId(session);
  const aq: ArtifactQuery = {
    session,
    sessions: c.reads.glob ?? undefined,
    meta: metaFilters(c.url.searchParams),
    type,
    name: q.str('name'),
    since: q.time('since', now),
    until: q.time('until', now),
    latest: q.bool('latest'),
    limit: q.int('limit', 100, 1, 1000) as number,
    cursor: q.str('cursor'),
    where: where === undefined ? undefined : parseWhere(where),
  };
  sendJson(c.res, 200, await c.app.artifacts.query(aq));
}
