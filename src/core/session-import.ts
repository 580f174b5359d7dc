import type { BlobStore, StagedBlob } from '../blobs/blob-store.js';
import type { Catalog } from '../catalog/catalog.js';
import { ConflictError, InvalidInputError } from '../lib/errors.js';
import { collectBytes, leaseBlobs, markStaleMsFor } from './blob-leases.js';
import { sessionRecord } from './records.js';
import { checkBundleSeal, type SessionBundle } from './session-bundle.js';
import type { Signer } from './signer.js';
import type { SessionRecord } from './types.js';

/** What an import needs of the app. */
export interface ImportDeps {
  catalog: Catalog;
  blobs: BlobStore;
  signer: Signer;
  clock: () => number;
}

/** Result of an import. */
export interface ImportResult {
  /** False when the very same session was already here (nothing was written). */
  created: boolean;
  session: SessionRecord;
  artifacts: number;
  bytes: number;
}

/**
 * Checks an export document before any byte is read: its seal (digest recomputed from the
 * manifest, signature against the bundle's key) and whether the session already exists here.
 * Returns the existing session if it is the very same one (same artifact ids, same seal:
 * importing twice is idempotent); throws InvalidInputError(`seal_mismatch`) for a bad seal and
 * ConflictError(`session_exists`) if a different session has the id.
 */
export async function precheckImport(
  d: ImportDeps,
  b: SessionBundle,
): Promise<SessionRecord | null> {
  const { problems } = checkBundleSeal(b);
  if (problems.length > 0)
    throw new InvalidInputError('seal_mismatch', problems.map((p) => p.message).join('; '));
  const now = d.clock();
  const found = await d.catalog.getSession(b.session.id, now);
  if (!found) return null;
  const existing = sessionRecord(found);
  const have = (await d.catalog.sessionArtifacts(b.session.id, now)).map((a) => a.id).sort();
  const want = b.artifacts.map((a) => a.id).sort();
  const same =
    existing.sealed === b.session.sealed &&
    existing.digest === b.session.digest &&
    have.join() === want.join();
  if (same) return existing;
  throw new ConflictError(
    'session_exists',
    `a different session '${b.session.id}' already exists here; delete it or import into another server`,
  );
}

/**
 * Makes the staged bytes of a fully received and verified export part of the store and inserts
 * the session whole, under the locks of every blob involved (so garbage collection cannot
 * remove bytes between their commit and the catalog rows). On failure, bytes this import added
 * and nothing references are removed again. The catalog appends `artifact.created` for each
 * artifact and `session.sealed` if the session arrives sealed (waiters wake up), in the
 * import's own transaction. Always discards `staged`.
 * `ttlMs` gives the new session a lifetime (none without it).
 */
export async function commitImport(
  d: ImportDeps,
  b: SessionBundle,
  staged: StagedBlob[],
  ttlMs?: number,
): Promise<ImportResult> {
  const shas = [...new Set(staged.map((s) => s.sha256))];
  try {
    // Leased first: garbage collection cannot remove bytes between their commit and the rows.
    const leaseId = await leaseBlobs(d.catalog, shas, {
      clock: d.clock,
      staleMs: markStaleMsFor(d.blobs),
    });
    let session: SessionRecord;
    const added: string[] = [];
    try {
      for (const s of staged) if (await s.commit()) added.push(s.sha256);
      const imported = await d.catalog.imports.importSession({
        id: b.session.id,
        meta: b.session.meta,
        createdAt: Date.parse(b.session.created_at),
        sealedAt: b.session.sealed_at === null ? null : Date.parse(b.session.sealed_at),
        digest: b.session.digest,
        signature: b.session.signature,
        sealKey: b.key && b.key.id !== d.signer.publicKey.id ? b.key : null,
        // An export carries no TTL: the importing server's own choice, or none.
        expiresAt: ttlMs === undefined ? null : d.clock() + ttlMs,
        artifacts: b.artifacts.map((a) => ({
          id: a.id,
          name: a.name,
          version: a.version,
          sha256: a.sha256,
          size: a.size,
          contentType: a.content_type,
          meta: a.meta,
          createdAt: Date.parse(a.created_at),
          derivedFrom: a.derived_from,
        })),
        now: d.clock(),
      });
      session = sessionRecord(imported);
    } catch (err) {
      await d.catalog.leases.releaseLease(leaseId);
      // Bytes this import brought go again, through garbage collection's own protocol.
      const o = { now: d.clock(), staleMs: markStaleMsFor(d.blobs) };
      for (const sha of added) await collectBytes(d.catalog, d.blobs, sha, o);
      throw err;
    }
    await d.catalog.leases.releaseLease(leaseId);
    return {
      created: true,
      session,
      artifacts: b.artifacts.length,
      bytes: b.artifacts.reduce((n, a) => n + a.size, 0),
    };
  } finally {
    await Promise.all(staged.map((s) => s.discard()));
  }
}
