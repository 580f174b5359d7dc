import { NotFoundError } from '../lib/errors.js';
import type { ArtifactService } from './artifact-service.js';
import type { ArtifactRecord } from './types.js';

/** One artifact in a lineage tree. */
export interface LineageNode {
  id: string;
  session: string | null;
  name: string | null;
  version: number | null;
  sha256: string | null;
  created_at: string | null;
  /** The id is recorded but the artifact is not here (deleted, expired, or on another server). */
  missing?: true;
  /** Already shown elsewhere in this tree (a diamond); not expanded again. */
  repeated?: true;
  /** Not expanded further: the depth limit was reached. */
  truncated?: true;
  /** Parents (upstream tree) or children (downstream tree). */
  next: LineageNode[];
}

/** Upstream and downstream trees of one artifact. */
export interface Lineage {
  artifact: ArtifactRecord;
  depth: number;
  /** True if some branch was cut by the depth or node limit. */
  truncated: boolean;
  /** What the artifact was derived from, transitively (`next` = parents). */
  upstream: LineageNode[];
  /** What was derived from it, transitively (`next` = children). */
  downstream: LineageNode[];
}

/** How a lineage walk reads the catalog. */
export interface LineageSource {
  /** A live artifact, or null. */
  get(id: string): Promise<ArtifactRecord | null>;
  /** Live artifacts whose derived_from lists `id`. */
  children(id: string): Promise<ArtifactRecord[]>;
}

/** At most this many nodes per direction; beyond, branches are cut and marked truncated. */
export const MAX_LINEAGE_NODES = 2000;

/**
 * The lineage of live artifact `id` both ways, to at most `depth` levels (see
 * {@link walkLineage}), read through the artifact service; throws NotFoundError for `id`.
 * With `sees` (a token's read scope), artifacts of sessions it does not see are left out, as
 * if they had expired.
 */
export async function artifactLineage(
  artifacts: Pick<ArtifactService, 'get' | 'children'>,
  id: string,
  depth: number,
  sees: (session: string) => boolean = () => true,
): Promise<Lineage> {
  const root = await artifacts.get(id);
  const get = (parent: string) =>
    artifacts.get(parent).then(
      (r) => (sees(r.session) ? r : null),
      (err: unknown) => {
        if (err instanceof NotFoundError) return null;
        throw err;
      },
    );
  const children = async (child: string) =>
    (await artifacts.children(child)).filter((r) => sees(r.session));
  return walkLineage({ get, children }, root, depth);
}

/**
 * Walks lineage both ways from `root` to at most `depth` levels (across sessions). Each
 * artifact appears once per tree; later occurrences are marked `repeated`. Missing parents
 * (recorded ids no longer here) appear as `missing` leaves.
 */
export async function walkLineage(
  src: LineageSource,
  root: ArtifactRecord,
  depth: number,
): Promise<Lineage> {
  let truncated = false;
  const walk = async (
    rec: ArtifactRecord,
    level: number,
    seen: Set<string>,
    nextOf: (r: ArtifactRecord) => Promise<(ArtifactRecord | string)[]>,
  ): Promise<LineageNode[]> => {
    const out: LineageNode[] = [];
    for (const n of await nextOf(rec)) {
      const node = typeof n === 'string' ? missingNode(n) : summary(n);
      out.push(node);
      if (seen.has(node.id)) {
        node.repeated = true;
        continue;
      }
      seen.add(node.id);
      if (typeof n === 'string') continue;
      if (level >= depth || seen.size >= MAX_LINEAGE_NODES) {
        if ((await nextOf(n)).length > 0) {
          node.truncated = true;
          truncated = true;
        }
        continue;
      }
      node.next = await walk(n, level + 1, seen, nextOf);
    }
    return out;
  };
  const parents = async (r: ArtifactRecord) =>
    Promise.all(r.derived_from.map(async (id) => (await src.get(id)) ?? id));
  const upstream = await walk(root, 1, new Set([root.id]), parents);
  const downstream = await walk(root, 1, new Set([root.id]), (r) => src.children(r.id));
  return { artifact: root, depth, truncated, upstream, downstream };
}

function summary(a: ArtifactRecord): LineageNode {
  return {
    id: a.id,
    session: a.session,
    name: a.name,
    version: a.version,
    sha256: a.sha256,
    created_at: a.created_at,
    next: [],
  };
}

function missingNode(id: string): LineageNode {
  return {
    id,
    session: null,
    name: null,
    version: null,
    sha256: null,
    created_at: null,
    missing: true,
    next: [],
  };
}
