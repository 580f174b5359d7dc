import { artifactLineage } from '../../core/lineage.js';
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
        // The root must be readable; related artifacts of other sessions are left out.
        c.reads.artifact(await c.app.artifacts.get(c.params.id));
        const sees = (session: string) => c.reads.sees(session);
        sendJson(c.res, 200, await artifactLineage(c.app.artifacts, c.params.id, depth, sees));
      },
    },
  ];
}
