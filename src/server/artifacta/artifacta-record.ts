import type { ArtifactRecord } from '../../core/types.js';
import { NO_SESSION } from '../../core/artifacta-service.js';
import { InvalidInputError } from '../../lib/errors.js';

/** An artifact as Artifacta's API returns it. */
export interface ArtifactaRecord {
  artifact_id: string;
  filename: string;
  content_type: string;
  size_bytes: number;
  content_hash: string;
  session_id: string | null;
  agent_id: string | null;
  metadata: Record<string, string>;
  expires_at: string | null;
  created_at: string;
  /** Where Cairn keeps it: `cairn ls`, `cairn pull` take these. */
  cairn_id: string;
  version: number;
}

/** The Cairn metadata key that carries Artifacta's `agent_id`. */
export const AGENT_KEY = 'agent_id';

const KEY_RE = /^[a-zA-Z][a-zA-Z0-9_-]{0,63}$/;

/**
 * An Artifacta metadata key as a Cairn key (lowercase only): each capital `X` becomes `.x`,
 * and a leading one `0.x` (a Cairn key starts with a letter or digit). Artifacta's keys have
 * no `.` and start with a letter, so the mapping is reversible ({@link cairnKeyToArtifacta}).
 */
export function artifactaKeyToCairn(key: string): string {
  return key.replace(/[A-Z]/g, (c, at: number) => `${at === 0 ? '0' : ''}.${c.toLowerCase()}`);
}

/** The inverse of {@link artifactaKeyToCairn}; other Cairn keys come through unchanged. */
export function cairnKeyToArtifacta(key: string): string {
  return key.replace(/^0(?=\.[a-z])/, '').replace(/\.([a-z])/g, (_m, c: string) => c.toUpperCase());
}

/** A Cairn artifact in Artifacta's shape, under its `art_` id. */
export function toArtifactaRecord(rec: ArtifactRecord, artId: string): ArtifactaRecord {
  const metadata: Record<string, string> = {};
  for (const [k, v] of Object.entries(rec.meta))
    if (k !== AGENT_KEY) metadata[cairnKeyToArtifacta(k)] = v;
  return {
    artifact_id: artId,
    filename: rec.name,
    content_type: rec.content_type,
    size_bytes: rec.size,
    content_hash: rec.sha256,
    session_id: rec.session === NO_SESSION ? null : rec.session,
    agent_id: rec.meta[AGENT_KEY] ?? null,
    metadata,
    expires_at: rec.expires_at,
    created_at: rec.created_at,
    cairn_id: rec.id,
    version: rec.version,
  };
}

const bad = (message: string) => new InvalidInputError('invalid_request', message);

/**
 * Artifacta's `metadata` (an object of strings, keys `^[a-zA-Z][a-zA-Z0-9_-]{0,63}$`, values
 * ≤ 1024 characters, ≤ 8 KB in all) and `agent_id` as Cairn metadata. Throws `invalid_request`.
 */
export function cairnMeta(metadata: unknown, agentId: unknown): Record<string, string> {
  const meta: Record<string, string> = {};
  if (metadata !== undefined && metadata !== null) {
    if (typeof metadata !== 'object' || Array.isArray(metadata))
      throw bad('metadata must be an object of string values');
    if (JSON.stringify(metadata).length > 8192) throw bad('metadata is limited to 8 KB in all');
    for (const [k, v] of Object.entries(metadata as Record<string, unknown>)) {
      if (!KEY_RE.test(k))
        throw bad(`metadata key '${k.slice(0, 70)}' must match ^[a-zA-Z][a-zA-Z0-9_-]{0,63}$`);
      if (k === AGENT_KEY) throw bad(`metadata key '${AGENT_KEY}' is reserved: send agent_id`);
      if (artifactaKeyToCairn(k).length > 64)
        throw bad(
          `metadata key '${k}' is too long here: each capital letter takes two of Cairn's 64 characters; use fewer capitals or a shorter key`,
        );
      if (typeof v !== 'string' || v.length > 1024)
        throw bad(`metadata value of '${k}' must be a string of at most 1024 characters`);
      meta[artifactaKeyToCairn(k)] = v;
    }
  }
  if (agentId !== undefined && agentId !== null) {
    if (typeof agentId !== 'string' || agentId.length === 0 || agentId.length > 1024)
      throw bad('agent_id must be a string of 1-1024 characters');
    meta[AGENT_KEY] = agentId;
  }
  return meta;
}
