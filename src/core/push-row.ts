import mime from 'mime';
import type { StagedBlob } from '../blobs/blob-store.js';
import type { Catalog, NewArtifact } from '../catalog/catalog.js';
import { newId } from '../lib/ids.js';
import type { PushInput } from './artifact-service.js';
import { artifactRecord } from './records.js';
import type { ArtifactRecord } from './types.js';

/** The catalog row of a push made at `now` (no lease, no `deduplicated`: the caller adds them). */
export function pushRow(
  input: PushInput,
  sha256: string,
  size: number,
  now: number,
  defaultTtlMs: number | undefined,
): NewArtifact {
  const ttl = input.ttlMs ?? defaultTtlMs;
  return {
    id: newId('a', now),
    session: input.session,
    name: input.name,
    sha256,
    size,
    contentType: input.contentType || mime.getType(input.name) || 'application/octet-stream',
    meta: input.meta ?? {},
    createdAt: now,
    expiresAt: ttl === undefined ? null : now + ttl,
    derivedFrom: [...new Set(input.derivedFrom ?? [])],
    parentSessions: input.readGlob ?? null,
    sessionExpiresAt: null,
  };
}

/**
 * A small push as one catalog transaction, bytes and row together (see InlinePushCatalog),
 * when the blob store would keep `staged`'s bytes in the inline tier of this very catalog.
 * Null when that path is not open (another store, a catalog without it) or the catalog refused
 * it (the bytes are being collected, or the row needs the full path): nothing was written, and
 * the caller takes the lease path.
 */
export async function pushInline(
  catalog: Catalog,
  staged: Pick<StagedBlob, 'inline' | 'sha256' | 'size'>,
  row: (size: number) => NewArtifact,
  staleMs: number,
): Promise<(ArtifactRecord & { deduplicated: boolean }) | null> {
  const { inlinePush, inlineBlobs } = catalog.capabilities;
  const inline = staged.inline;
  if (!inlinePush || !inline || inline.store !== inlineBlobs) return null;
  const done = await inlinePush.addInline(row(staged.size), inline.bytes, { staleMs });
  return done && { ...artifactRecord(done.artifact), deduplicated: !done.created };
}
