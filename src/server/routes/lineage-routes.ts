import { walkLineage } from '../../core/lineage.js';
import type { ArtifactRecord } from '../../core/types.js';
import { sendJson } from '../respond.js';
import type { Route } from '../router.js';

/** Lineage of an artifact: what it was derived from and what was derived from it. */
export function bindLineageRoutes(): Route[] {
  return [
    {
      method: 'GET',
      path: '/v1/artifacts/:id/lineage',
      query: ['depth'],
      access: 'read',
      summary: 'Upstream and downstream lineage trees, across sessions (?depth=1..50, default 10)',
      handler: async (c) => {
        const q = c.query;
        const depth = q.int('depth', 10, 1, 50) as number;
        const root = c.reads.artifact(await c.app.artifacts.get(c.params.id));
        const now = () => c.app.clock();
        // Artifacts of sessions the token cannot read are left out, as if they had expired.
        const seen = (r: ArtifactRecord | null) => (r && c.reads.sees(r.session) ? r : null);
        const lineage = await walkLineage(
          {
            get: async (id) => seen(await c.app.catalog.getArtifact(id, now())),
            children: async (id) =>
              (await c.app.catalog.derivedFrom(id, now())).filter((r) => c.reads.sees(r.session)),
          },
          root,
          depth,
        );
        sendJson(c.res, 200, lineage);
      },
    },
  ];
}
