import { createHash } from 'node:crypto';
import { canonicalJson } from '../lib/canonical-json.js';
import type { ArtifactRecord } from './types.js';

/** One artifact as the seal covers it. */
export interface ManifestEntry {
  name: string;
  version: number;
  sha256: string;
  size: number;
  content_type: string;
  meta: Record<string, string>;
}

/** The canonical manifest of a session: what its digest is computed over. */
export interface Manifest {
  session: string;
  artifacts: ManifestEntry[];
}

/** Builds the manifest: artifacts sorted by name (code point order) then version. */
export function buildManifest(session: string, artifacts: ArtifactRecord[]): Manifest {
  const entries = artifacts.map((a) => ({
    name: a.name,
    version: a.version,
    sha256: a.sha256,
    size: a.size,
    content_type: a.content_type,
    meta: a.meta,
  }));
  entries.sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : x.version - y.version));
  return { session, artifacts: entries };
}

/** sha256 (hex) of the manifest's canonical JSON (sorted keys, no whitespace, UTF-8). */
export function manifestDigest(m: Manifest): string {
  return createHash('sha256').update(canonicalJson(m), 'utf8').digest('hex');
}
