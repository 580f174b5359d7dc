import { artifactExpiry } from '../../core/lifecycle.js';
import { artifactEventData } from '../event-payload.js';
import type { StoredArtifact } from '../stored-rows.js';
import { InvalidInputError } from '../../lib/errors.js';
import type { NewArtifact } from '../catalog.js';
import { sessionLife, toArtifact } from '../sqlite/rows.js';
import { prepared, type PgDb } from './pg-db.js';
import { Coalescer, type Settled } from './pg-coalescer.js';
import { appendEvents } from './pg-event-rows.js';
import { globToRegex, pgText } from './pg-glob.js';

/** What cairn_add_artifacts returns per push. */
interface AddedRow {
  r_seq: number;
  r_version: number;
  r_pinned: number;
  r_session_expires_at: number | null;
}

/**
 * Group commit of pushes on PostgreSQL: the addArtifacts calls that arrive while earlier
 * batches are in flight run together in one READ COMMITTED transaction of three round trips
 * (cairn_add_artifacts, the events insert, COMMIT; see pg-push-functions.ts for why READ
 * COMMITTED is safe), so one commit and one fsync serve them all, and pushes into one hot
 * session wait on its row lock once per batch instead of aborting each other. Each call stays
 * atomic and its rows and events commit together. A batch the function refuses (a sealed or
 * expired session, a parent not live, a blob being collected, text jsonb cannot carry) is
 * rolled back and each of its calls takes `full`, the one-call SERIALIZABLE path that gives
 * the precise answer. Any other failure (a lost server; a unique violation, which the locks
 * rule out) fails the batch's calls: no fallback hides a broken fast path.
 */
export class PgPushBatcher {
  private readonly batches: Coalescer<NewArtifact[], StoredArtifact[]>;

  constructor(
    private readonly db: PgDb,
    private readonly full: (list: NewArtifact[]) => Promise<StoredArtifact[]>,
  ) {
    this.batches = new Coalescer((lists) => this.run(lists), { maxItems: 64 });
  }

  /** Adds the rows of one call (atomically) and resolves with their records once committed. */
  add(list: NewArtifact[]): Promise<StoredArtifact[]> {
    if (list.length === 0) return Promise.resolve([]);
    if (list.some(needsFullPath)) return this.full(list);
    return this.batches.run(list);
  }

  /** Resolves once no batch is queued or running. */
  drain(): Promise<void> {
    return this.batches.drain();
  }

  private async run(lists: NewArtifact[][]): Promise<Settled<StoredArtifact[]>[]> {
    let recs: StoredArtifact[];
    try {
      recs = await this.db.tx((t) => addBatch(t, lists.flat()), { readCommitted: true });
    } catch (err) {
      // Anything but a refusal (CRN00) or text jsonb cannot carry (U+0000) is every call's
      // answer: a lost server, or a bug a rerun would hide.
      if ((err as { code?: string }).code !== 'CRN00' && !(err instanceof InvalidInputError))
        throw err;
      // One call the fast path cannot take rolled the batch back: each call on its own.
      const out: Settled<StoredArtifact[]>[] = [];
      for (const list of lists)
        out.push(
          await this.full(list).then(
            (value) => ({ ok: true as const, value }),
            (error: unknown) => ({ ok: false as const, error }),
          ),
        );
      return out;
    }
    let at = 0;
    return lists.map((list) => {
      const value = recs.slice(at, at + list.length);
      at += list.length;
      return { ok: true as const, value };
    });
  }
}

/** A parent glob no session id can match: the full path says which parent is unknown. */
function needsFullPath(a: NewArtifact): boolean {
  const glob = a.parentSessions ?? null;
  return a.derivedFrom.length > 0 && glob !== null && globToRegex(glob) === null;
}

/** The rows and events of `list`, inside the caller's READ COMMITTED transaction. */
async function addBatch(
  t: Parameters<Parameters<PgDb['tx']>[0]>[0],
  list: NewArtifact[],
): Promise<StoredArtifact[]> {
  const items = list.map((a) => {
    const glob = a.parentSessions ?? null;
    return {
      id: a.id,
      session: a.session,
      name: a.name,
      sha256: a.sha256,
      size: a.size,
      contentType: a.contentType,
      meta: JSON.stringify(a.meta),
      metaText: Object.fromEntries(Object.entries(a.meta).map(([k, v]) => [k, pgText(v)])),
      createdAt: a.createdAt,
      expiresAt: a.expiresAt,
      sessionExpiresAt: a.sessionExpiresAt,
      derivedFrom: a.derivedFrom,
      re: glob === null ? null : globToRegex(glob),
      ...(a.leaseId === undefined ? {} : { leaseId: a.leaseId }),
    };
  });
  const rows = await t.all<AddedRow>(prepared('SELECT * FROM cairn_add_artifacts($1::jsonb)'), [
    JSON.stringify(items),
  ]);
  const recs = list.map((a, i) => {
    const r = rows[i];
    const parents = [...new Set(a.derivedFrom)];
    const life = sessionLife({
      pinned: r.r_pinned,
      expires_at: r.r_session_expires_at,
      sealed_at: null,
    });
    return toArtifact({
      seq: r.r_seq,
      id: a.id,
      session: a.session,
      name: a.name,
      version: r.r_version,
      sha256: a.sha256,
      size: a.size,
      content_type: a.contentType,
      meta: items[i].meta,
      created_at: a.createdAt,
      expires_at: artifactExpiry(life, { version: r.r_version, expiresAt: a.expiresAt }),
      derived_from: parents.length > 0 ? JSON.stringify(parents) : null,
    });
  });
  // One `artifact.created` per row, in the push's own transaction.
  await appendEvents(
    t,
    recs.map((rec, i) => {
      const data = artifactEventData(rec);
      const dedup = list[i].deduplicated;
      if (dedup !== undefined) data.deduplicated = dedup;
      return { type: 'artifact.created', session: rec.session, data };
    }),
  );
  return recs;
}
