import type { App } from '../../app.js';
import { versionInfo } from '../../version.js';
import { buildOpenApi } from '../openapi.js';
import { sendJson } from '../respond.js';
import type { Route } from '../router.js';
import { allRoutes } from './index.js';

/** Prometheus metrics and the OpenAPI description of the route table. */
export function bindObservabilityRoutes(): Route[] {
  return [
    {
      method: 'GET',
      path: '/metrics',
      access: 'read',
      summary: 'Prometheus metrics (text format 0.0.4)',
      handler: async (c) => {
        await refreshGauges(c.app);
        const text = c.app.metrics.render();
        c.res.writeHead(200, {
          'Content-Type': 'text/plain; version=0.0.4; charset=utf-8',
          'Content-Length': Buffer.byteLength(text),
          'Cache-Control': 'no-store',
        });
        c.res.end(text);
      },
    },
    {
      method: 'GET',
      path: '/openapi.json',
      access: 'read',
      summary: 'OpenAPI 3.1 description of every route, generated from the route table',
      handler: async (c) => sendJson(c.res, 200, openApi()),
    },
  ];
}

let cached: ReturnType<typeof buildOpenApi> | null = null;
function openApi() {
  return (cached ??= buildOpenApi(allRoutes(), versionInfo().version));
}

/** Values read at scrape time: catalog size, sweeper runs, event bus subscribers. */
async function refreshGauges(app: App): Promise<void> {
  const m = app.metrics;
  const n = await app.status.counts();
  m.set('cairn_catalog_sessions', 'Sessions in the catalog', n.sessions);
  m.set('cairn_catalog_artifacts', 'Artifacts in the catalog (all versions)', n.artifacts);
  m.set('cairn_catalog_artifact_bytes', 'Bytes of all artifacts, before dedupe', n.artifactBytes);
  m.set('cairn_catalog_blobs', 'Distinct referenced blobs', n.blobs);
  m.set(
    'cairn_catalog_blob_bytes',
    'Bytes of distinct referenced blobs, after dedupe',
    n.blobBytes,
  );
  const sw = app.sweeper.stats;
  m.set('cairn_sweeper_runs_total', 'Expiry sweeps run', sw.runs, {}, 'counter');
  m.set('cairn_sweeper_failures_total', 'Expiry sweeps that failed', sw.failures, {}, 'counter');
  m.set('cairn_event_subscribers', 'Subscribers of the event bus', app.events.subscribers);
  m.add('cairn_open_waiters', 'Requests waiting for a seal', 0);
  m.add('cairn_open_event_streams', 'Open Server-Sent Events streams', 0);
}
