/** The API's JSON shapes as the page reads them (DESIGN §2). */

// The records are the server's own types (src/core/types.ts has no runtime imports), so the
// page cannot drift from what the API sends.
export type { ArtifactRecord, SessionRecord, Page } from '../../core/types.js';

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
