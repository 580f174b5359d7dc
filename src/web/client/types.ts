/** The API's JSON shapes as the page reads them (DESIGN §2). */

/** One artifact record. */
export interface ArtifactRecord {
  id: string;
  session: string;
  name: string;
  version: number;
  sha256: string;
  size: number;
  content_type: string;
  meta: Record<string, string>;
  created_at: string;
  expires_at: string | null;
  derived_from: string[];
}

/** One session record. */
export interface SessionRecord {
  id: string;
  meta: Record<string, string>;
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
}

/** One page of a list. */
export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

/** `POST …/share` answer. */
export interface ShareLink {
  id: string;
  url: string;
  expires_at: string | null;
}

/** One artifact in a lineage tree (`next`: parents upstream, children downstream). */
export interface LineageNode {
  id: string;
  session: string | null;
  name: string | null;
  version: number | null;
  missing?: true;
  repeated?: true;
  truncated?: true;
  next: LineageNode[];
}

/** `GET /v1/artifacts/{id}/lineage` answer. */
export interface Lineage {
  upstream: LineageNode[];
  downstream: LineageNode[];
  truncated?: boolean;
}
