/** Metadata: string keys to string values (limits in validate.ts). */
export type Meta = Record<string, string>;

/** Token scopes, each including the ones before it: read < write < admin. */
export type Scope = 'read' | 'write' | 'admin';

/** A stored artifact as every API returns it. Times are ISO-8601 strings. */
export interface ArtifactRecord {
  id: string;
  session: string;
  name: string;
  version: number;
  sha256: string;
  size: number;
  content_type: string;
  meta: Meta;
  created_at: string;
  expires_at: string | null;
  derived_from: string[];
}

/** A session as every API returns it. */
export interface SessionRecord {
  id: string;
  meta: Meta;
  created_at: string;
  updated_at: string;
  expires_at: string | null;
  sealed: boolean;
  sealed_at: string | null;
  digest: string | null;
  signature: string | null;
  pinned: boolean;
  artifact_count: number;
  total_bytes: number;
  /** Only the newest N versions of each name are kept (null: the server's setting, if any). */
  keep_versions: number | null;
}

/** An API token as listed (never the secret). */
export interface TokenRecord {
  id: string;
  name: string;
  scope: Scope;
  sessions: string | null;
  created_at: string;
  last_used_at: string | null;
}

/** One metadata condition of a query. */
export type MetaFilter =
  | { key: string; op: 'eq'; value: string }
  | { key: string; op: 'prefix'; value: string }
  | { key: string; op: 'exists' };

/** What `GET /v1/artifacts` can filter on. All conditions are ANDed. */
export interface ArtifactQuery {
  session?: string;
  /** Glob over session ids (`run_*`): a token's read limit; only its sessions' artifacts. */
  sessions?: string;
  meta?: MetaFilter[];
  /** Exact content type, or `image/*` for a whole family. */
  type?: string;
  /** Glob over the name: `*`, `?`, `[…]`. */
  name?: string;
  since?: number;
  until?: number;
  /** Only the latest version of each name. */
  latest?: boolean;
  limit: number;
  /** Continue after this opaque position (from a previous page's next_cursor). */
  cursor?: string;
  /** Parsed `where=` expression. */
  where?: import('./where.js').WhereExpr;
}

/** What `GET /v1/sessions` can filter on. */
export interface SessionQuery {
  /** Glob over session ids (`run_*`): a token's read limit; only the sessions it matches. */
  sessions?: string;
  meta?: MetaFilter[];
  sealed?: boolean;
  /** Substring of the session id. */
  idContains?: string;
  limit: number;
  cursor?: string;
  where?: import('./where.js').WhereExpr;
}

/** One page of results. */
export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}
