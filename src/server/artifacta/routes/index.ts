import type { Route } from '../../router.js';
import { bindArtifactaAccountRoutes } from './account-routes.js';
import { bindArtifactaArtifactRoutes } from './artifact-routes.js';
import { bindArtifactaLinkRoutes } from './link-routes.js';
import { bindArtifactaPublishRoutes } from './publish-routes.js';
import { bindArtifactaSessionRoutes } from './session-routes.js';
import { bindArtifactaUploadUrlRoutes } from './upload-url-routes.js';

/**
 * The Artifacta-compatible listener's whole route table, in match order (the upload URL route
 * before `/v1/artifacts/:id`). The auth test is generated from it too.
 */
export function bindArtifactaRoutes(): Route[] {
  return [
    ...bindArtifactaAccountRoutes(),
    ...bindArtifactaUploadUrlRoutes(),
    ...bindArtifactaArtifactRoutes(),
    ...bindArtifactaLinkRoutes(),
    ...bindArtifactaPublishRoutes(),
    ...bindArtifactaSessionRoutes(),
  ];
}
