import type { BlobStore } from '../blobs/blob-store.js';
import type { Catalog } from '../catalog/catalog.js';
import { NotFoundError } from '../lib/errors.js';
import type { ArtifactService } from './artifact-service.js';
import { hashStream } from '../lib/hashing-stream.js';

/** Kinds of inconsistency fsck reports. */
export type FsckKind =
  | 'integrity'
  | 'corrupt'
  | 'missing'
  | 'orphan'
  | 'refcount'
  | 'session_counts'
  | 'latest'
  | 'size_mismatch'
  | 'blob_row_missing';

/** One thing fsck found. */
export interface FsckProblem {
  kind: FsckKind;
  /** The blob hash, artifact id or session id concerned. */
  subject: string;
  detail: string;
  /** True once `--repair` fixed it. */
  repaired: boolean;
}

/** What a check (and repair) found. */
export interface FsckReport {
  /** True when nothing is left wrong (after repairs, if asked). */
  ok: boolean;
  repair: boolean;
  /** Blob files rehashed, and their bytes. */
  blobs_checked: number;
  bytes_hashed: number;
  /** Catalog blob rows checked against the files. */
  blob_rows: number;
  /**
   * Blobs nothing references whose row awaits garbage collection (a normal state, e.g. after a
   * crash between a delete's commit and the bytes' removal); `repair` collects them.
   */
  gc_pending: number;
  problems_total: number;
  unrepaired: number;
  /** The first 1000 problems. */
  problems: FsckProblem[];
}

const LIMIT = 1000;
const PAGE = 1000;

/**
 * `cairn fsck`: rehashes every blob, checks the catalog's rows against the blobs and the
 * reference counts, and with `repair` fixes what is safe to fix: reference counts, session
 * counters and latest flags are recomputed from the artifact rows, and bytes no artifact
 * references (orphans, including corrupt ones) are removed once marked (see LeaseCatalog). It never
 * removes a referenced blob nor an artifact row: a corrupt or missing referenced blob is
 * reported for restoring from a backup. Safe while the server runs.
 */
export class FsckService {
  constructor(
    private readonly o: { catalog: Catalog; blobs: BlobStore; artifacts: ArtifactService },
  ) {}

  /** Runs the check; see the class contract. */
  async run(opts: { repair: boolean }): Promise<FsckReport> {
    const r: FsckReport = {
      ok: true,
      repair: opts.repair,
      blobs_checked: 0,
      bytes_hashed: 0,
      blob_rows: 0,
      gc_pending: 0,
      problems_total: 0,
      unrepaired: 0,
      problems: [],
    };
    const add = (kind: FsckKind, subject: string, detail: string, repaired = false) => {
      r.problems_total++;
      if (!repaired) r.unrepaired++;
      if (r.problems.length < LIMIT) r.problems.push({ kind, subject, detail, repaired });
    };
    const audit = this.o.catalog.audit;
    for (const m of await audit.integrity()) add('integrity', 'catalog', m);
    await this.checkCatalog(opts.repair, add);
    await this.checkFiles(opts.repair, r, add);
    for (let after = ''; ;) {
      const rows = await audit.blobPage(after, PAGE);
      for (const b of rows) {
        r.blob_rows++;
        if (b.refs > 0 && !(await this.o.blobs.has(b.sha256)))
          add('missing', b.sha256, `referenced by ${b.refs} artifact(s) but its bytes are gone`);
      }
      if (rows.length < PAGE) break;
      after = rows[rows.length - 1].sha256;
    }
    for (const a of await audit.artifactsWithoutBlobRow(LIMIT))
      add('blob_row_missing', a.id, `artifact references blob ${a.sha256}, which has no row`);
    for (const a of await audit.sizeMismatches(LIMIT))
      add('size_mismatch', a.id, `artifact size differs from blob ${a.sha256}'s`);
    r.ok = r.unrepaired === 0;
    return r;
  }

  /** Counters and flags derived from the artifact rows: reported, and recomputed on repair. */
  private async checkCatalog(
    repair: boolean,
    add: (k: FsckKind, s: string, d: string, repaired?: boolean) => void,
  ): Promise<void> {
    const audit = this.o.catalog.audit;
    const refs = await audit.refMismatches(LIMIT);
    const sessions = await audit.sessionCountMismatches(LIMIT);
    const latest = await audit.latestMismatches(LIMIT);
    if (repair) {
      if (refs.length) await audit.fixRefs();
      if (sessions.length) await audit.fixSessionCounts();
      if (latest.length) await audit.fixLatest();
    }
    for (const m of refs)
      add('refcount', m.sha256, `refs ${m.stored}, referenced by ${m.actual}`, repair);
    for (const m of sessions)
      add(
        'session_counts',
        m.id,
        `stored ${m.stored.count} artifact(s)/${m.stored.bytes} B, actual ${m.actual.count}/${m.actual.bytes} B`,
        repair,
      );
    for (const m of latest)
      add('latest', m.session, `'${m.name}' is not marked latest on its newest version`, repair);
  }

  /** Rehashes every blob file; unreferenced ones are orphans. */
  private async checkFiles(
    repair: boolean,
    r: FsckReport,
    add: (k: FsckKind, s: string, d: string, repaired?: boolean) => void,
  ): Promise<void> {
    for await (const sha of this.o.blobs.list()) {
      const hashed = await this.rehash(sha);
      if (!hashed) continue; // removed meanwhile (garbage collection): nothing to check
      r.blobs_checked++;
      r.bytes_hashed += hashed.size;
      const row = await this.o.catalog.audit.blob(sha);
      // A push of these bytes in flight holds a lease: removal below leaves them alone.
      const referenced = (await this.o.catalog.blobRefs(sha)) > 0;
      if (referenced) {
        if (hashed.sha256 !== sha)
          add('corrupt', sha, `its bytes hash to ${hashed.sha256}; restore it from a backup`);
        else if (row && row.size !== hashed.size)
          add('size_mismatch', sha, `catalog says ${row.size} B, file holds ${hashed.size} B`);
        continue;
      }
      const what = hashed.sha256 === sha ? 'no artifact references it' : 'corrupt and unreferenced';
      const removed = repair && (await this.o.artifacts.removeUnreferencedBytes(sha));
      if (row && hashed.sha256 === sha) {
        // Unreferenced with its row kept: garbage collection's to-do list, not damage.
        if (!removed) r.gc_pending++;
        continue;
      }
      // Referenced again meanwhile (a push of the same bytes leased them): not an orphan.
      if (repair && !removed && (await this.o.catalog.blobRefs(sha)) > 0) continue;
      add('orphan', sha, `${what} (${hashed.size} B)`, removed);
    }
  }

  private async rehash(sha: string): Promise<{ sha256: string; size: number } | null> {
    let stream;
    try {
      stream = await this.o.blobs.get(sha);
    } catch (err) {
      if (err instanceof NotFoundError) return null;
      throw err;
    }
    return hashStream(stream);
  }
}
