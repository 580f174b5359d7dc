import { createHash } from 'node:crypto';
import type { IdempotentAnswer } from '../../catalog/catalog.js';
import type { PushInput } from '../../core/artifact-service.js';
import type { ArtifactQuery, MetaFilter } from '../../core/types.js';
import { validateMetaKey } from '../../core/validate.js';
import { parseWhere } from '../../core/where-parser.js';
import { InvalidInputError, TooLargeError } from '../../lib/errors.js';
import { hashBody, Query } from '../request.js';
import { sendJson } from '../respond.js';
import type { Ctx, Route } from '../router.js';
import { serveArtifact } from '../serve-content.js';

/** Routes for pushing, reading, querying and deleting artifacts. */
export function bindArtifactRoutes(): Route[] {
  return [
    {
      method: 'PUT',
      path: '/v1/sessions/:sid/artifacts/*name',
      access: 'write',
      summary: 'Push an artifact (raw body)',
      handler: push,
    },
    {
      method: 'GET',
      path: '/v1/sessions/:sid/artifacts/*name',
      access: 'read',
      summary: 'Bytes of the latest (or ?version=N) version',
      handler: readByName,
    },
    {
      method: 'GET',
      path: '/v1/artifacts',
      access: 'read',
      summary: 'Query artifacts',
      handler: query,
    },
    {
      method: 'GET',
      path: '/v1/artifacts/:id',
      access: 'read',
      summary: 'One artifact record',
      handler: async (c) => sendJson(c.res, 200, await c.app.artifacts.get(c.params.id)),
    },
    {
      method: 'GET',
      path: '/v1/artifacts/:id/content',
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

async function push(c: Ctx): Promise<void> {
  const q = new Query(c.url.searchParams, ['ttl', 'derived_from', 'sha256'], true);
  const pairs: [string, string][] = [];
  for (const [k, v] of c.url.searchParams) if (k.startsWith('meta.')) pairs.push([k.slice(5), v]);
  // fromEntries makes own properties, so `meta.__proto__=…` reaches validation (and is refused)
  // instead of silently setting a prototype.
  const meta: Record<string, string> = Object.fromEntries(pairs);
  if (Object.keys(meta).length < pairs.length)
    throw new InvalidInputError(
      'invalid_meta',
      'a meta.KEY parameter is given twice; give each key once',
    );
  let type = c.req.headers['content-type'];
  // curl's default for --data; never what an agent means for a file.
  if (type === 'application/x-www-form-urlencoded') type = undefined;
  const input: PushInput = {
    session: c.params.sid,
    name: c.params.name,
    meta,
    contentType: type,
    ttlMs: q.duration('ttl'),
    derivedFrom: q.all('derived_from'),
    expectedSha256: parseContentDigest(c.req.headers['content-digest']),
  };
  const declared = Number(c.req.headers['content-length'] ?? NaN);
  if (Number.isSafeInteger(declared) && declared >= 0) input.announcedSize = declared;
  if (declared > c.app.config.maxSize)
    throw new TooLargeError(
      `the upload exceeds the server's maximum size of ${c.app.config.maxSize} bytes`,
    );
  const byRef = q.str('sha256');
  const run = async () => {
    const rec =
      byRef !== undefined
        ? await pushByRef(c, input, byRef)
        : await c.app.artifacts.push(input, c.req);
    return { status: 201, body: JSON.stringify(rec) };
  };
  const key = c.req.headers['idempotency-key'];
  const answer =
    typeof key === 'string' && key.length > 0
      ? await idempotentPush(c, key, byRef, run)
      : await run();
  if (!c.req.complete) c.req.resume();
  c.res.writeHead(answer.status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(answer.body),
  });
  c.res.end(answer.body);
}

/**
 * Runs a push under its Idempotency-Key (per token; the whole key counts, hashed to a fixed
 * length). A replay must be the same push: the same target and parameters, except `sha256`
 * (a client retrying a push whose bytes the first attempt stored sends them by reference
 * then), and the same bytes (hashed as they arrive again, or the reference).
 */
function idempotentPush(
  c: Ctx,
  key: string,
  byRef: string | undefined,
  run: () => Promise<{ status: number; body: string }>,
) {
  const params = new URLSearchParams(c.url.searchParams);
  params.delete('sha256');
  const [path] = (c.req.url ?? '').split('?', 1);
  const token = c.principal?.tokenId;
  return c.app.idempotency.run(
    `${token}:${createHash('sha256').update(key).digest('hex')}`,
    {
      request: `PUT ${path}?${params.toString()}`,
      sameBody: async (prior: IdempotentAnswer) => {
        const sha = (JSON.parse(prior.body) as { sha256?: unknown }).sha256;
        return sha === (byRef ?? (await hashBody(c.req, c.app.config.maxSize)));
      },
      legacyKey: `${token}:${key.slice(0, 200)}`,
    },
    run,
  );
}

async function pushByRef(c: Ctx, input: PushInput, sha256: string) {
  const len = c.req.headers['content-length'];
  if ((len !== undefined && len !== '0') || c.req.headers['transfer-encoding']) {
    throw new InvalidInputError(
      'invalid_request',
      'a push by reference (?sha256=) must have an empty body',
    );
  }
  return c.app.artifacts.pushByReference(input, sha256);
}

/** Parses `Content-Digest: sha-256=:<base64>:` (RFC 9530) to hex; other algorithms are ignored. */
export function parseContentDigest(header: string | string[] | undefined): string | undefined {
  if (header === undefined) return undefined;
  const text = Array.isArray(header) ? header.join(',') : header;
  const m = /(?:^|,)\s*sha-256=:([A-Za-z0-9+/=]*):\s*(?:,|$)/.exec(text);
  if (!m) {
    if (/sha-256/i.test(text))
      throw new InvalidInputError(
        'invalid_digest',
        'Content-Digest must look like sha-256=:<base64 of the 32-byte digest>:',
      );
    return undefined;
  }
  const bytes = Buffer.from(m[1], 'base64');
  if (bytes.length !== 32)
    throw new InvalidInputError(
      'invalid_digest',
      'Content-Digest sha-256 must be the base64 of 32 bytes',
    );
  return bytes.toString('hex');
}

async function readByName(c: Ctx): Promise<void> {
  const q = new Query(c.url.searchParams, ['version', 'download']);
  const rec = await c.app.artifacts.find(
    c.params.sid,
    c.params.name,
    q.int('version', undefined, 1, 2 ** 31),
  );
  await serveArtifact(c.req, c.res, c.app.artifacts, rec, { attachment: q.bool('download') });
}

async function readById(c: Ctx): Promise<void> {
  const q = new Query(c.url.searchParams, ['download']);
  const rec = await c.app.artifacts.get(c.params.id);
  await serveArtifact(c.req, c.res, c.app.artifacts, rec, { attachment: q.bool('download') });
}

async function remove(c: Ctx): Promise<void> {
  const rec = await c.app.artifacts.get(c.params.id);
  c.authorize('write', rec.session);
  sendJson(c.res, 200, await c.app.artifacts.delete(c.params.id));
}

async function headBlob(c: Ctx): Promise<void> {
  const has = await c.app.artifacts.hasBlob(c.params.sha256);
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
  const q = new Query(
    c.url.searchParams,
    ['session', 'type', 'name', 'since', 'until', 'latest', 'limit', 'cursor', 'where'],
    true,
  );
  const now = c.app.clock();
  const type = q.str('type');
  if (type !== undefined && !/^[\w.+-]+\/(\*|[\w.+-]+)$/.test(type)) {
    throw new InvalidInputError(
      'invalid_type',
      'type must be a media type like application/json or a family like image/*',
    );
  }
  const where = q.str('where');
  const aq: ArtifactQuery = {
    session: q.str('session'),
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
