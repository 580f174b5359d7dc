import { artifactExpiry } from '../../core/lifecycle.js';
import { artifactEventData } from '../event-payload.js';
import type { StoredArtifact } from '../stored-rows.js';
import { InvalidInputError } from '../../lib/errors.js';
import type { NewArtifact } from '../catalog.js';
import type { InlinePushed } from '../inline-push-catalog.js';
import { sessionLife, toArtifact } from '../sqlite/rows.js';
import { prepared, type PgDb } from './pg-db.js';
import { Coalescer, type Settled } from './pg-coalescer.js';
import { appendEvents } from './pg-event-rows.js';
import { globToRegex, pgText } from './pg-glob.js';

/** What cairn_add_artifacts returns per push (cairn_add_inline adds `r_fresh`). */
interface AddedRow {
  r_seq: number;
  r_version: number;
  r_pinned: number;
  r_session_expires_at: number | null;
  r_fresh?: boolean;
}

/** One call: its rows, and for a one-row push with inline bytes, those bytes. */
interface PushCall {
  list: NewArtifact[];
  inline?: { bytes: Buffer; stale: number };
}

/** A call's answer: its records (and for an inline push whether its bytes were new), or null. */
type PushAnswer = { recs: StoredArtifact[]; fresh: boolean } | null;

/**
 * Longest a group waits for a key (a session's, a blob's) before it gives up and its calls
 * take their own paths: with one group in flight, a session held for long by a seal, prune or
 * delete on another node would otherwise hold up this node's pushes into every other session.
 * Groups wait on each other's keys only through a commit (milliseconds).
 */
const GROUP_LOCK_WAIT_MS = 250;
/** PostgreSQL's lock_not_available: lock_timeout ran out. */
const LOCK_NOT_AVAILABLE = '55P03';

/**
 * Group commit of pushes on PostgreSQL: the addArtifacts calls that arrive while earlier
 * batches are in flight run together in one READ COMMITTED transaction of three round trips
 * (cairn_add_artifacts, the events insert, COMMIT; see pg-push-functions.ts for why READ
 * COMMITTED is safe), so one commit and one fsync serve them all, and pushes into one hot
 * session wait on its row lock once per batch instead of aborting each other. Each call stays
 * atomic and its rows and events commit together. A batch the function refuses (a sealed or
 * expired session, a parent not live, a blob being collected, text jsonb cannot carry) is
 * rolled back and each of its calls takes `full`, the one-call SERIALIZABLE path that gives
 * the precise answer, each in its own caller once the group has ended. Any other failure (a
 * lost server; a unique violation, which the locks rule out) fails the batch's calls: no
 * fallback hides a broken fast path.
 *
 * One group is in flight at a time: groups into one session queue behind its lock until
 * commit anyway, so a second group in flight only waited there while splitting the pushes
 * that a single group would have carried (measured: 12 pushes a group, 3 groups waiting on the
 * session's key at any moment, with four in flight; about twice the rate with one).
 *
 * A push with inline bytes (see InlinePushCatalog) joins the same groups: when a group holds
 * any, cairn_add_inline writes their bytes, checks the collection marks under the blobs' keys,
 * then calls cairn_add_artifacts, all in the group's one transaction. A refused group's
 * inline pushes answer null (their caller takes the lease path), the others take `full`.
 */
export class PgPushBatcher {
  private readonly batches: Coalescer<PushCall, PushAnswer>;

  constructor(
    private readonly db: PgDb,
    private readonly full: (list: NewArtifact[]) => Promise<StoredArtifact[]>,
  ) {
    this.batches = new Coalescer((calls) => this.run(calls), { maxItems: 64, maxInFlight: 1 });
  }

  /** Adds the rows of one call (atomically) and resolves with their records once committed. */
  async add(list: NewArtifact[]): Promise<StoredArtifact[]> {
    if (list.length === 0) return [];
    if (list.some(needsFullPath)) return this.full(list);
    const answer = await this.batches.run({ list });
    return answer === null ? this.full(list) : answer.recs;
  }

  /**
   * Adds `a` with its inline `bytes` in one group transaction (see InlinePushCatalog.addInline);
   * null when refused, with nothing written.
   */
  async addInline(a: NewArtifact, bytes: Buffer, staleMs: number): Promise<InlinePushed | null> {
    if (needsFullPath(a) || a.leaseId !== undefined) return null;
    const answer = await this.batches.run({
      list: [a],
      inline: { bytes, stale: a.createdAt - staleMs },
    });
    return answer === null ? null : { artifact: answer.recs[0], created: answer.fresh };
  }

  /** Resolves once no batch is queued or running. */
  drain(): Promise<void> {
    return this.batches.drain();
  }

  private async run(calls: PushCall[]): Promise<Settled<PushAnswer>[]> {
    let added: { recs: StoredArtifact[]; fresh: boolean[] };
    try {
      added = await this.db.tx((t) => addBatch(t, calls), { readCommitted: true });
    } catch (err) {
      // Anything but a refusal (CRN00), a key held past GROUP_LOCK_WAIT or text jsonb cannot
      // carry (U+0000) is every call's answer: a lost server, or a bug a rerun would hide.
      const code = (err as { code?: string }).code;
      if (code !== 'CRN00' && code !== LOCK_NOT_AVAILABLE && !(err instanceof InvalidInputError))
        throw err;
      // One call the fast path cannot take rolled the batch back: each call on its own, an
      // inline push through its caller's lease path, the others through `full` (see add),
      // run by their callers once this group has freed the batcher's one slot.
      return calls.map(() => ({ ok: true as const, value: null }));
    }
    let at = 0;
    return calls.map((call) => {
      const value = { recs: added.recs.slice(at, at + call.list.length), fresh: added.fresh[at] };
      at += call.list.length;
      return { ok: true as const, value };
    });
  }
}

/** A parent glob no session id can match: the full path says which parent is unknown. */
function needsFullPath(a: NewArtifact): boolean {
  const glob = a.parentSessions ?? null;
  return a.derivedFrom.length > 0 && glob !== null && globToRegex(glob) === null;
}

/**
 * The rows, inline bytes and events of `calls`, inside the caller's READ COMMITTED
 * transaction; `fresh[i]` is true for the first inline row whose bytes this group inserted.
 */
async function addBatch(
  t: Parameters<Parameters<PgDb['tx']>[0]>[0],
  calls: PushCall[],
): Promise<{ recs: StoredArtifact[]; fresh: boolean[] }> {
  const list = calls.flatMap((c) => c.list);
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
  await t.run(prepared(`SET LOCAL lock_timeout = '${GROUP_LOCK_WAIT_MS}ms'`));
  const inline = new Map<string, Buffer>();
  let stale = Infinity;
  for (const c of calls)
    if (c.inline) {
      inline.set(c.list[0].sha256, c.inline.bytes);
      // The earliest clock of the group: a mark newer than its horizon counts as fresh.
      stale = Math.min(stale, c.inline.stale);
    }
  const rows =
    inline.size === 0
      ? await t.all<AddedRow>(prepared('SELECT * FROM cairn_add_artifacts($1::jsonb)'), [
          JSON.stringify(items),
        ])
      : await t.all<AddedRow>(
          prepared('SELECT * FROM cairn_add_inline($1::jsonb, $2::text[], $3::bytea[], $4)'),
          [JSON.stringify(items), [...inline.keys()], [...inline.values()], stale],
        );
  const inlineRows = new Set(calls.flatMap((c) => (c.inline ? [c.list[0]] : [])));
  const told = new Set<string>();
  const fresh = list.map((a, i) => {
    // Of the pushes of one new value, the first says it was new; any other, not.
    if (!inlineRows.has(a) || rows[i].r_fresh !== true || told.has(a.sha256)) return false;
    told.add(a.sha256);
    return true;
  });
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
      const dedup = inlineRows.has(list[i]) ? !fresh[i] : list[i].deduplicated;
      if (dedup !== undefined) data.deduplicated = dedup;
      return { type: 'artifact.created', session: rec.session, data };
    }),
  );
  return { recs, fresh };
}
