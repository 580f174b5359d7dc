import { InvalidInputError } from '../../../lib/errors.js';
import { parseTime } from '../../../lib/time.js';
import type { MetaFilter } from '../../../core/types.js';
import { readJson } from '../../request.js';
import type { Ctx, Route } from '../../router.js';
import { artifactaRecord, artifactaRecords, reply, ttlOf } from '../artifacta-http.js';
import { AGENT_KEY, artifactaKeyToCairn } from '../artifacta-record.js';
import { upload } from './upload-route.js';

const LIST_PARAMS = [
  'session_id',
  'agent_id',
  'filename',
  'content_type',
  'created_after',
  'created_before',
  'cursor',
  'limit',
];

/** A name matched exactly by a glob: its wildcard characters as one-character classes. */
const exactGlob = (name: string) => name.replace(/[*?[]/g, (ch) => `[${ch}]`);

/** `GET /v1/artifacts`: Artifacta's filters over Cairn's query, newest first. */
async function list(c: Ctx): Promise<void> {
  const p = c.url.searchParams;
  for (const key of new Set(p.keys()))
    if (!LIST_PARAMS.includes(key) && !key.startsWith('metadata.'))
      throw new InvalidInputError(
        'invalid_request',
        `unknown query parameter '${key.slice(0, 40)}'; allowed: ${LIST_PARAMS.join(', ')}, metadata.KEY`,
      );
  const one = (k: string) => c.query.str(k);
  const now = c.app.clock();
  const meta: MetaFilter[] = [];
  for (const [k, v] of p)
    if (k.startsWith('metadata.'))
      meta.push({ key: artifactaKeyToCairn(k.slice(9)), op: 'eq', value: v });
  const agent = one('agent_id');
  if (agent !== undefined) meta.push({ key: AGENT_KEY, op: 'eq', value: agent });
  const filename = one('filename');
  const after = one('created_after');
  const before = one('created_before');
  const page = await c.app.artifacts.query({
    session: one('session_id'),
    // A key limited to some sessions lists only those (as Cairn's own query does).
    sessions: c.reads.glob ?? undefined,
    meta: meta.length ? meta : undefined,
    type: one('content_type'),
    name: filename === undefined ? undefined : exactGlob(filename),
    since: after === undefined ? undefined : parseTime(after, 'created_after', now),
    until: before === undefined ? undefined : parseTime(before, 'created_before', now),
    limit: c.query.int('limit', 50, 1, 200) as number,
    cursor: one('cursor'),
  });
  reply(c, 200, {
    artifacts: await artifactaRecords(c.app, page.items),
    next_cursor: page.next_cursor,
    has_more: page.next_cursor !== null,
  });
}

/** The artifact of `:id`, after checking the token may write to its session. */
async function writable(c: Ctx) {
  const rec = await c.app.artifacta.resolve(c.params.id);
  c.authorize('write', rec.session);
  return rec;
}

/** Artifacta's artifact routes: upload, list, get, delete, extend-ttl. */
export function bindArtifactaArtifactRoutes(): Route[] {
  return [
    {
      method: 'POST',
      path: '/v1/artifacts',
      access: 'write',
      summary: 'Upload an artifact: JSON with base64 content, or multipart/form-data (streamed)',
      handler: upload,
    },
    {
      method: 'GET',
      path: '/v1/artifacts',
      access: 'read',
      query: 'any',
      summary: 'List artifacts newest first: {artifacts, next_cursor, has_more}',
      handler: list,
    },
    {
      method: 'GET',
      path: '/v1/artifacts/:id',
      access: 'read',
      summary: 'One artifact record (410 when expired or deleted)',
      handler: async (c) => {
        const rec = await c.app.artifacta.resolve(c.params.id);
        // As Cairn's own reads check it (a session glob applies to reads where it does there).
        c.authorize('read', rec.session);
        reply(c, 200, await artifactaRecord(c.app, rec));
      },
    },
    {
      method: 'DELETE',
      path: '/v1/artifacts/:id',
      access: 'write',
      summary: 'Delete an artifact; again: 410 artifact_already_deleted',
      handler: async (c) => {
        await writable(c);
        const { deletedAt } = await c.app.artifacta.delete(c.params.id);
        reply(c, 200, {
          artifact_id: c.params.id,
          deleted: true,
          deleted_at: new Date(deletedAt).toISOString(),
        });
      },
    },
    {
      method: 'POST',
      path: '/v1/artifacts/:id/extend-ttl',
      access: 'write',
      summary: "Set an artifact's TTL from now {ttl: '30d' | 'never'}",
      handler: async (c) => {
        await writable(c);
        const b = await readJson(c.req, c.app.config.maxJsonBytes);
        const ttl = ttlOf(c.app, b.ttl);
        if (ttl === undefined)
          throw new InvalidInputError('invalid_request', "Missing required field 'ttl'");
        const rec = await c.app.artifacta.setExpiry(
          c.params.id,
          ttl === null ? null : c.app.clock() + ttl,
        );
        reply(c, 200, await artifactaRecord(c.app, rec));
      },
    },
  ];
}
