import { checkContentType } from './media-type.js';
import type { ArtifactRecord } from './types.js';
import {
  validateArtifactId,
  validateMeta,
  validateName,
  validateSessionId,
  type Meta,
} from './validate.js';

/** What a push carries besides the bytes. */
export interface PushInput {
  session: string;
  name: string;
  meta?: Meta;
  /** Explicit content type; else looked up from the name. */
  contentType?: string;
  /** Time to live in ms. */
  ttlMs?: number;
  derivedFrom?: string[];
  /** Announced sha256 (hex) of the body, verified. */
  expectedSha256?: string;
  /** Announced size of the body (Content-Length), if any. */
  announcedSize?: number;
  /**
   * The pusher's read glob (a token limited to some sessions): bytes by reference and
   * `derived_from` parents count only if a matching session holds them, and `deduplicated`
   * says only whether such a session already held the bytes; what only other sessions hold is
   * answered exactly as if it were not stored.
   */
  readGlob?: string;
}

/** An artifact record as returned by a push. */
export type PushResult = ArtifactRecord & { deduplicated: boolean };

/** Checks what a push carries besides the bytes (session, name, meta, type, parents). */
export function validatePushInput(input: PushInput): void {
  validateSessionId(input.session);
  validateName(input.name);
  validateMeta(input.meta ?? {});
  if (input.contentType) checkContentType(input.contentType);
  for (const id of input.derivedFrom ?? []) validateArtifactId(id);
}
