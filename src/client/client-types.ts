import type { ShareRecord } from '../core/share-service.js';
import type { GcReport } from '../core/retention-service.js';

/** Options for `CairnClient` (src/client/cairn-client.ts). */
export interface ClientOptions {
  /** Base URL, default http://127.0.0.1:7070 */
  url?: string;
  token?: string;
  /**
   * When there is no token: what a 401 answer's message says instead of the server's (where a
   * token was looked for and what to set).
   */
  noTokenHint?: string;
}

/** What a push sends besides the bytes. */
export interface PushOptions {
  meta?: Record<string, string>;
  ttl?: string;
  contentType?: string;
  derivedFrom?: string[];
  /** sha256 hex of the body: sent as Content-Digest and verified by the server. */
  sha256?: string;
  idempotencyKey?: string;
  /** Bytes pushed so far (for progress bars). */
  onProgress?: (sent: number) => void;
  /** Bytes hashed so far, before a file's upload (pushFile hashes first). */
  onHashProgress?: (hashed: number) => void;
}

/** Query parameters of `GET /v1/artifacts`. */
export interface ArtifactQueryParams {
  session?: string;
  meta?: Record<string, string>;
  type?: string;
  name?: string;
  since?: string;
  until?: string;
  latest?: boolean;
  where?: string;
  limit?: number;
  cursor?: string;
}

/** A share link as listed by `GET /v1/shares` (never its secret). */
export type ShareInfo = ShareRecord;

/** A newly created share link, with its URL (shown once). */
export type ShareCreated = ShareInfo & { url: string };

/** What `POST /v1/gc` removed, or would remove with `dry_run` (the server's report as sent). */
export type GcResult = GcReport;
