import { CairnError, InvalidInputError, NotFoundError } from '../../../lib/errors.js';
import { parseTime } from '../../../lib/time.js';
import type { Ctx, Route } from '../../router.js';
import { reply } from '../artifacta-http.js';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** A sessions cursor: the position (activity time, id) of the last session of a page. */
function encodeAfter(activeAt: number, id: string): string {
  return Buffer.from(JSON.stringify([activeAt, id])).toString('base64url');
}

function decodeAfter(text: string): { activeAt: number; id: string } {
  try {
    const [activeAt, id] = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as unknown[];
    if (typeof activeAt === 'number' && typeof id === 'string') return { activeAt, id };
  } catch {
    // Falls through to the error below.
  }
  throw new InvalidInputError(
    'invalid_request',
    'after must be a next_cursor from a previous page',
  );
}

/** `GET /v1/sessions`: sessions by most recent activity, paged with `after`. */
async function list(c: Ctx): Promise<void> {
  const now = c.app.clock();
  const limit = c.query.int('limit', 50, 1, 200) as number;
  const after = c.query.str('after');
  const createdAfter = c.query.str('created_after');
  const createdBefore = c.query.str('created_before');
  const rows = await c.app.artifacta.sessions({
    // A key limited to a session glob sees only its sessions, as in Cairn's own list.
    sessions: c.reads.glob ?? undefined,
    limit: limit + 1,
    after: after ? decodeAfter(after) : undefined,
    createdAfter:
      createdAfter === undefined ? undefined : parseTime(createdAfter, 'created_after', now),
    createdBefore:
      createdBefore === undefined ? undefined : parseTime(createdBefore, 'created_before', now),
  });
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  const hasMore = rows.length > limit;
  reply(c, 200, {
    sessions: page.map((s) => ({
      session_id: s.id,
      artifact_count: s.artifactCount,
      is_sealed: s.sealedAt !== null,
      first_artifact_at: iso(s.firstArtifactAt),
      last_artifact_at: iso(s.lastArtifactAt),
      created_at: iso(s.createdAt),
    })),
    next_cursor: hasMore && last ? encodeAfter(last.activeAt, last.id) : null,
    has_more: hasMore,
  });
}

/** `POST /v1/sessions/:sid/seal`: Cairn's signed seal; idempotent. */
async function seal(c: Ctx): Promise<void> {
  const sid = c.params.sid;
  try {
    await c.app.sessions.get(sid);
  } catch (err) {
    if (err instanceof CairnError && (err.status === 404 || err.status === 400))
      throw new NotFoundError(`session '${sid.slice(0, 128)}' not found`, 'session_not_found');
    throw err;
  }
  const s = await c.app.sessions.seal(sid);
  reply(c, 200, {
    session_id: s.id,
    status: 'sealed',
    sealed_at: s.sealed_at,
    artifact_count: s.artifact_count,
    digest: s.digest,
    signature: s.signature,
  });
}

/** Artifacta's session routes. */
export function bindArtifactaSessionRoutes(): Route[] {
  return [
    {
      method: 'GET',
      path: '/v1/sessions',
      access: 'read',
      query: ['limit', 'after', 'created_after', 'created_before'],
      summary: 'Sessions, most recent activity first: {sessions, next_cursor, has_more}',
      handler: list,
    },
    {
      method: 'POST',
      path: '/v1/sessions/:sid/seal',
      access: 'write',
      summary: "Seal a session (Cairn's signed seal); idempotent",
      handler: seal,
    },
  ];
}
