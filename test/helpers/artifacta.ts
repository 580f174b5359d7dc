import { startArtifactaServer } from '../../src/server/artifacta/artifacta-server.js';
import type { RunningServer } from '../../src/server/http-server.js';
import type { Config } from '../../src/config.js';
import { startTestServer, type TestServer } from './server.js';

/** A test server with the Artifacta-compatible listener on a second free port. */
export interface ArtifactaTestServer extends TestServer {
  artifacta: RunningServer;
  /** Base URL of the Artifacta listener. */
  aUrl: string;
  /** An `ak_live_` admin key (an Artifacta-shaped Cairn token). */
  key: string;
}

/** Starts a real Cairn plus its Artifacta listener (`--artifacta-listen 127.0.0.1:0`). */
export async function startArtifactaTestServer(
  config: Partial<Config> = {},
  opts: { clock?: () => number } = {},
): Promise<ArtifactaTestServer> {
  const s = await startTestServer(config, opts);
  const artifacta = await startArtifactaServer(s.app, '127.0.0.1:0');
  const res = await s.fetch('/v1/tokens', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ scope: 'admin', name: 'artifacta admin', artifacta: true }),
  });
  const { token } = (await res.json()) as { token: string };
  return {
    ...s,
    artifacta,
    aUrl: artifacta.url,
    key: token,
    close: async () => {
      await artifacta.close();
      await s.close();
    },
  };
}
