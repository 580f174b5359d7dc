import { artifactExpiry } from '../../core/lifecycle.js';
import type { ArtifactRecord } from '../../core/types.js';
import { InvalidInputError } from '../../lib/errors.js';
import type { NewArtifact } from '../catalog.js';
import { sessionLife, toArtifact } from '../sqlite/rows.js';
import type { PgDb } from './pg-db.js';
import { appendEvents } from './pg-event-rows.js';
import { globToRegex, pgText } from './pg-glob.js';

/** Most pushes one transaction carries. */
const MAX_ITEMS = 256;
/** Batch transactions in flight at once; calls arriving meanwhile wait for the next. */
const MAX_IN_FLIGHT = 4;

interface Pending {
  list: NewArtifact[];
  resolve: (recs: ArtifactRecord[]) => void;
  reject: (err: unknown) => void;
}

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
  private queue: Pending[] = [];
  private inFlight = 0;
  private readonly idle = new Set<() => void>();

  constructor(
    private readonly db: PgDb,
    private readonly full: (list: NewArtifact[]) => Promise<ArtifactRecord[]>,
  ) {}

  /** Adds the rows of one call (atomically) and resolves with their records once committed. */
  add(list: NewArtifact[]): Promise<ArtifactRecord[]> {
    if (list.length === 0) return Promise.resolve([]);
    if (list.some(needsFullPath)) return this.full(list);
    return new Promise((resolve, reject) => {
      this.queue.push({ list, resolve, reject });
      this.pump();
    });
  }

  /** Resolves once no batch is queued or running. */
  async drain(): Promise<void> {
    while (this.inFlight > 0 || this.queue.length > 0)
      await new Promise<void>((r) => this.idle.add(r));
  }

  private pump(): void {
    while (this.inFlight < MAX_IN_FLIGHT && this.queue.length > 0) {
      const batch: Pending[] = [];
      let items = 0;
      while (
        this.queue.length > 0 &&
        (batch.length === 0 || items + this.queue[0].list.length <= MAX_ITEMS)
      ) {
        const p = this.queue.shift() as Pending;
        batch.push(p);
        items += p.list.length;
      }
      this.inFlight++;
      void this.run(batch).finally(() => {
        this.inFlight--;
        this.pump();
        if (this.inFlight === 0 && this.queue.length === 0) {
          for (const r of this.idle) r();
          this.idle.clear();
        }
      });
    }
  }

  private async run(batch: Pending[]): Promise<void> {
    let recs: ArtifactRecord[];
    try {
      recs = await this.db.tx(
        (t) =>
          addBatch(
            t,
            batch.flatMap((p) => p.list),
          ),
        {
          readCommitted: true,
        },
      );
    } catch (err) {
      // Anything but a refusal (CRN00) or text jsonb cannot carry (U+0000) is every call's
      // answer: a lost server, or a bug a rerun would hide.
      if ((err as { code?: string }).code !== 'CRN00' && !(err instanceof InvalidInputError)) {
        for (const p of batch) p.reject(err);
        return;
      }
      // One call the fast path cannot take rolled the batch back: each call on its own.
      for (const p of batch) await this.full(p.list).then(p.resolve, p.reject);
      return;
    }
    let at = 0;
    for (const p of batch) {
      p.resolve(recs.slice(at, at + p.list.length));
      at += p.list.length;
    }
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
): Promise<ArtifactRecord[]> {
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
  const rows = await t.all<AddedRow>('SELECT * FROM cairn_add_artifacts($1::jsonb)', [
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
      const dedup = list[i].deduplicated;
      const data = dedup === undefined ? rec : { ...rec, deduplicated: dedup };
      return { type: 'artifact.created', session: rec.session, data };
    }),
  );
  return recs;
}
