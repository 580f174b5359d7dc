import { walkLineage } from '../../core/lineage.js';
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
        const root = await c.app.artifacts.get(c.params.id);
        const now = () => c.app.clock();
        const lineage = await walkLineage(
          {
            get: (id) => c.app.catalog.getArtifact(id, now()),
            children: (id) => c.app.catalog.derivedFrom(id, now()),
          },
          root,
          depth,
        );
        sendJson(c.res, 200, lineage);
      },
    },
  ];
}
