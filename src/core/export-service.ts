import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import type { BlobStore } from '../blobs/blob-store.js';
import type { Catalog } from '../catalog/catalog.js';
import { artifactRecord } from './records.js';
import { BUNDLE_ENTRY, buildBundle, type SessionBundle } from './session-bundle.js';
import type { SessionService } from './session-service.js';
import type { PublicKeyInfo, Signer } from './signer.js';
import { addTarEntry } from './tar-entries.js';

/** What {@link ExportService} reads. */
export interface ExportServiceOptions {
  catalog: Catalog;
  blobs: BlobStore;
  sessions: SessionService;
  signer: Signer;
  clock: () => number;
}

/**
 * Session exports: the export document and the tar that carries it with the bytes. The tar is
 * first `cairn-export.json` (the session, the key that signed its seal, the canonical manifest,
 * every artifact record with its lineage), then each artifact's bytes at `files/<name>` (latest
 * version) or `versions/<N>/<name>`. GNU tar lists and extracts it; `POST /v1/import` and
 * `cairn verify FILE.tar` read it (see ExportTarReader).
 */
export class ExportService {
  constructor(private readonly o: ExportServiceOptions) {}

  /**
   * The export document of a live session; throws NotFoundError if it is unknown or expired.
   * The seal key is the one that signed it: a foreign key for an imported session, else ours.
   */
  async bundle(sessionId: string): Promise<SessionBundle> {
    const s = await this.o.sessions.get(sessionId);
    const artifacts = await this.o.catalog.sessionArtifacts(sessionId, this.o.clock());
    const key: PublicKeyInfo | null = s.sealed
      ? ((await this.o.catalog.imports.sealKey(sessionId)) ?? this.o.signer.publicKey)
      : null;
    return buildBundle(s, artifacts.map(artifactRecord), key, this.o.clock());
  }

  /**
   * Writes the tar of `bundle` into `out` and ends it. Resolves `true` once `out` took it all,
   * `false` if `out` was closed first (the receiver went away: nothing to report). On a failure
   * of ours (a blob gone) it destroys `out`, so the receiver sees a truncated tar, never a
   * complete-looking wrong one, and rejects.
   */
  async writeTar(bundle: SessionBundle, out: Writable): Promise<boolean> {
    const pack = tar.pack();
    const piping = pipeline(pack, out);
    // Observed at once: the receiver may go away while a row or blob is being read, and a
    // rejection nobody awaits yet would be unhandled. It is still awaited (and thrown) below.
    piping.catch(() => undefined);
    try {
      const json = Buffer.from(`${JSON.stringify(bundle, null, 2)}\n`);
      await addTarEntry(pack, BUNDLE_ENTRY, json.length, json);
      for (const a of bundle.artifacts)
        await addTarEntry(pack, a.path, a.size, await this.o.blobs.get(a.sha256));
      pack.finalize();
      await piping;
      return true;
    } catch (err) {
      const outGone = out.destroyed;
      pack.destroy(err as Error);
      out.destroy();
      await piping.catch(() => undefined);
      if (outGone) return false;
      throw err;
    }
  }
}
