import type { Route } from '../router.js';
import { bindArtifactRoutes } from './artifact-routes.js';
import { bindSessionRoutes } from './session-routes.js';
import { bindSystemRoutes } from './system-routes.js';
import { bindTokenRoutes } from './token-routes.js';
import { bindRetentionRoutes } from './retention-routes.js';
import { bindShareRoutes } from './share-routes.js';
import { bindMaintenanceRoutes } from './maintenance-routes.js';
import { bindMcpRoutes } from './mcp-routes.js';
import { bindExportRoutes } from './export-routes.js';
import { bindEventRoutes } from './event-routes.js';
import { bindLineageRoutes } from './lineage-routes.js';
import { bindObservabilityRoutes } from './observability-routes.js';
import { bindWebRoutes } from './web-routes.js';

/** The whole route table, in match order. The auth test is generated from it. */
export function allRoutes(): Route[] {
  return [
    ...bindSystemRoutes(),
    ...bindSessionRoutes(),
    ...bindArtifactRoutes(),
    ...bindTokenRoutes(),
    ...bindRetentionRoutes(),
    ...bindShareRoutes(),
    ...bindMaintenanceRoutes(),
    ...bindMcpRoutes(),
    ...bindExportRoutes(),
    ...bindEventRoutes(),
    ...bindLineageRoutes(),
    ...bindObservabilityRoutes(),
    ...bindWebRoutes(),
  ];
}
