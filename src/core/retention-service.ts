import type { BlobStore } from '../blobs/blob-store.js';
import type { Catalog } from '../catalog/catalog.js';
import type { ArtifactService } from './artifact-service.js';
import type { ArtifactRecord } from './types.js';
import { validateSessionId } from './validate.js';

/** What a garbage collection removed (or, for a dry run, would remove). */
export interface GcReport {
  dry_run: boolean;
  /** Expired sessions removed whole (ids; at most 1000 listed). */
  sessions: string[];
  sessions_expired: number;
  /** Artifact rows removed (in expired sessions and on their own). */
  artifacts_expired: number;
  /** Blobs whose bytes were deleted: only those no remaining artifact references. */
  blobs_freed: number;
  /** Bytes those blobs held. A dry run's figure equals what the real run frees. */
  bytes_freed: number;
  /**
   * Orphans removed: bytes a push wrote but never recorded (it died before adding its row),
   * deleted once every lease on them ran out. Not in `blobs_freed`. A dry run counts those whose
   * leases have run out by now and that are in the store (at most 10,000 looked at).
   */
  orphans_freed: number;
  /** Bytes those orphans held, from the blob store's `stat` just before each was removed. */
  orphan_bytes_freed: number;
}

/** Settings for {@link RetentionService}. */
export interface RetentionServiceOptions {
  catalog: Catalog;
  artifacts: ArtifactService;
  /** The blob store, asked the size of orphans before they go (else they count 0 bytes). */
  blobs?: Pick<BlobStore, 'stat'>;
  clock: () => number;
  /** Server-wide keep-last-N versions per name (a session's own setting wins). */
  keepVersions?: number;
  /** Rows per sweep transaction, so a sweep never holds the writer for long. */
  batchSize: number;
  /** How long the event stream keeps events for resuming clients (default 24 h)... */
  eventRetentionMs?: number;
  /** ...and at most how many of them (default 100,000; see EventCatalog.trim). */
  eventRetentionCount?: number;
}

/**
 * Retention rules over the catalog and blob store: expiry sweeps, garbage collection of
 * unreferenced blobs, keep-last-N pruning and deleting open sessions. Bytes are only ever
 * removed through {@link ArtifactService.collectBlob}, which marks the blob row first (see
 * LeaseCatalog), so a push of the same bytes racing a sweep, in any process, never loses them.
 */
export class RetentionService {
  /** Serializes sweeps (background and on demand): one at a time. */
  private running: Promise<unknown> = Promise.resolve();

  constructor(private readonly o: RetentionServiceOptions) {}

  /**
   * Removes everything expired now, in bounded batches (yielding between them), then the bytes
   * of every unreferenced blob and of every blob whose leases all ran out (a dead push's
   * orphans), then trims the event stream. The catalog appends
   * `session.expired` per session removed and `artifact.deleted` (with `reason: 'expired'`) per
   * artifact that expired on its own, each in its batch's transaction.
   */
  sweep(): Promise<GcReport> {
    const next = this.running.then(
      () => this.sweepNow(),
      () => this.sweepNow(),
    );
    this.running = next.catch(() => undefined);
    return next;
  }

  /** What {@link sweep} would remove and free now, dedupe counted; changes nothing. */
  async plan(): Promise<GcReport> {
    const p = await this.o.catalog.retention.plan(this.o.clock());
    return {
      dry_run: true,
      sessions: p.sessions,
      sessions_expired: p.sessionCount,
      artifacts_expired: p.artifacts,
      blobs_freed: p.blobs,
      bytes_freed: p.bytes,
      ...(await this.planOrphans()),
    };
  }

  private async sweepNow(): Promise<GcReport> {
    const report: GcReport = {
      dry_run: false,
      sessions: [],
      sessions_expired: 0,
      artifacts_expired: 0,
      blobs_freed: 0,
      bytes_freed: 0,
      orphans_freed: 0,
      orphan_bytes_freed: 0,
    };
    for (;;) {
      const started = performance.now();
      const b = await this.o.catalog.retention.sweepExpired(this.o.clock(), this.o.batchSize);
      report.artifacts_expired += b.sessionArtifactRows;
      for (const s of b.sessions) {
        report.sessions_expired++;
        if (report.sessions.length < 1000) report.sessions.push(s.id);
      }
      report.artifacts_expired += b.artifacts.length;
      if (b.rows < this.o.batchSize) break;
      await pauseAfter(started);
    }
    const freed = await this.collectUnreferenced();
    report.blobs_freed = freed.blobs;
    report.bytes_freed = freed.bytes;
    const orphans = await this.collectExpiredLeases();
    report.orphans_freed = orphans.blobs;
    report.orphan_bytes_freed = orphans.bytes;
    // Wall-clock time, as events are stamped with it (not the app's clock).
    await this.o.catalog.events.trim({
      before: Date.now() - (this.o.eventRetentionMs ?? 24 * 3600_000),
      keep: this.o.eventRetentionCount ?? 100_000,
    });
    return report;
  }

  /**
   * Deletes the bytes of every blob nothing references, a batch at a time in sha256 order; the
   * ones a lease or another collector's mark keeps are passed over until the next sweep.
   */
  private async collectUnreferenced(): Promise<{ blobs: number; bytes: number }> {
    const out = { blobs: 0, bytes: 0 };
    // A cursor over the sha256 order: rows still leased by pushes (or marked by another
    // collector) stay, and the walk goes on past them, so a batch of those never ends a sweep
    // before the rest is collected (and none is visited twice in one sweep).
    let after = '';
    for (;;) {
      const batch = await this.o.catalog.retention.unreferencedBlobs(this.o.batchSize, after);
      // Several at a time (each marked on its own), so their catalog updates share
      // group commits instead of paying one commit each.
      for (let i = 0; i < batch.length; i += COLLECT_PARALLEL) {
        const started = performance.now();
        const slice = batch.slice(i, i + COLLECT_PARALLEL);
        const done = await Promise.all(slice.map((b) => this.o.artifacts.collectBlob(b.sha256)));
        slice.forEach((b, j) => {
          if (!done[j]) return;
          out.blobs++;
          out.bytes += b.size;
        });
        await pauseAfter(started);
      }
      if (batch.length < this.o.batchSize) return out;
      after = batch[batch.length - 1].sha256;
    }
  }

  /**
   * Deletes the bytes of every blob whose leases have all run out (a push that died between
   * writing its bytes and adding its row leaves them leased, with no reference) through
   * {@link ArtifactService.removeUnreferencedBytes}, which keeps referenced or freshly leased
   * ones, then drops those leases. Bounded batches; orphans are gone one sweep after their lease
   * (BLOB_LEASE_MS) ran out. Returns how many orphans went (bytes in the store that no catalog
   * row recorded) and their size.
   */
  private async collectExpiredLeases(): Promise<{ blobs: number; bytes: number }> {
    const out = { blobs: 0, bytes: 0 };
    for (;;) {
      const now = this.o.clock();
      const batch = await this.o.catalog.leases.expiredLeases(now, this.o.batchSize);
      for (let i = 0; i < batch.length; i += COLLECT_PARALLEL) {
        const started = performance.now();
        const slice = batch.slice(i, i + COLLECT_PARALLEL);
        const gone = await Promise.all(slice.map((sha) => this.removeOrphan(sha)));
        for (const size of gone) {
          if (size === null) continue;
          out.blobs++;
          out.bytes += size;
        }
        await pauseAfter(started);
      }
      // Also those kept (referenced, or a backup holds deletes: collected when it ends).
      await this.o.catalog.leases.dropExpiredLeases(batch, now);
      if (batch.length < this.o.batchSize) return out;
    }
  }

  /**
   * Removes the bytes of one blob whose leases ran out unless something keeps them; returns
   * their size if they were an orphan that went (no catalog row, bytes in the store), else null.
   * A row at refs 0 is the unreferenced step's (counted in `blobs_freed`); a lease with no bytes
   * behind it is a push that died before writing any.
   */
  private async removeOrphan(sha256: string): Promise<number | null> {
    const orphan = await this.orphanSize(sha256);
    const removed = await this.o.artifacts.removeUnreferencedBytes(sha256);
    return removed ? orphan : null;
  }

  /** The size of these bytes if they are an orphan (in the store, no catalog row), else null. */
  private async orphanSize(sha256: string): Promise<number | null> {
    if ((await this.o.catalog.audit.blob(sha256)) !== null) return null;
    if (!this.o.blobs) return 0;
    return this.o.blobs.stat(sha256).then(
      (s) => s.size,
      () => null, // not found: nothing was written under this lease
    );
  }

  /** What the expired-lease step would remove now (see {@link GcReport.orphans_freed}). */
  private async planOrphans(): Promise<{ orphans_freed: number; orphan_bytes_freed: number }> {
    const now = this.o.clock();
    const expired = await this.o.catalog.leases.expiredLeases(now, 10_000);
    const out = { orphans_freed: 0, orphan_bytes_freed: 0 };
    for (const sha of expired) {
      const size = await this.orphanSize(sha);
      if (size === null) continue;
      out.orphans_freed++;
      out.orphan_bytes_freed += size;
    }
    return out;
  }

  /**
   * Deletes an open session with all its artifacts and their unreferenced bytes; the catalog
   * appends `session.deleted` (as an expiry appends `session.expired`). Throws NotFoundError,
   * SessionSealedError (409).
   */
  async deleteSession(id: string): Promise<{ id: string; artifacts_deleted: number }> {
    validateSessionId(id);
    const r = await this.o.catalog.retention.deleteSession(id, this.o.clock());
    for (const sha of new Set(r.unreferenced)) await this.o.artifacts.collectBlob(sha);
    return { id, artifacts_deleted: r.artifacts };
  }

  /**
   * After a push: keeps only the newest N versions of that name (the session's keep_versions,
   * else the server's). Never fails the push that triggered it; the next push retries.
   */
  async afterPush(rec: ArtifactRecord): Promise<void> {
    try {
      await this.prune(rec.session, rec.name);
    } catch {
      // The push itself succeeded; pruning is retried by the next push of this name.
    }
  }

  /** Applies keep-last-N to every name of an open session (after its setting changed). */
  async pruneSession(id: string): Promise<number> {
    return this.prune(id, null);
  }

  private async prune(session: string, name: string | null): Promise<number> {
    const r = await this.o.catalog.retention.pruneVersions(
      session,
      name,
      this.o.keepVersions,
      this.o.clock(),
    );
    for (const sha of new Set(r.unreferenced)) await this.o.artifacts.collectBlob(sha);
    return r.removed.length;
  }
}

/** Blobs collected concurrently by a sweep. */
const COLLECT_PARALLEL = 32;

/**
 * Leaves the writer to pushes for as long as the last batch held it (at least a few ms): a
 * sweep of a large backlog takes about twice as long, but never takes more than half of the
 * catalog's write time from the pushes meanwhile.
 */
function pauseAfter(started: number): Promise<void> {
  const ms = Math.max(5, performance.now() - started);
  return new Promise((resolve) => setTimeout(resolve, ms));
}
