import type { CairnClient } from '../client/cairn-client.js';
import type { ArtifactRecord } from '../core/types.js';
import type { PathGuard } from './path-guard.js';
import { invalidArgs } from './tool-result.js';

/**
 * What the MCP tools need from Cairn. Both transports satisfy it with a {@link CairnClient}:
 * `cairn mcp` (stdio) with one pointed at `CAIRN_URL`, `/mcp` on `cairn serve` with one pointed
 * at the server itself and carrying the caller's own bearer token, so every tool call is
 * authorized by exactly the rules of the HTTP API.
 */
export type CairnApi = Pick<
  CairnClient,
  | 'request'
  | 'push'
  | 'pushFile'
  | 'artifact'
  | 'artifactIdOf'
  | 'downloadById'
  | 'query'
  | 'sessions'
  | 'session'
  | 'seal'
  | 'share'
>;

/** Everything one MCP server instance works with. */
export interface McpDeps {
  api: CairnApi;
  /** Local directories push_file / pull_artifact may touch (no roots: both refuse). */
  files: PathGuard;
}

/** Arguments that name one artifact: `id`, or `session` + `name` (+ `version`). */
export interface ArtifactRef {
  id?: string;
  session?: string;
  name?: string;
  version?: number;
}

/**
 * The record an {@link ArtifactRef} names (latest version unless `version`). Throws
 * `invalid_input` for an incomplete or ambiguous reference, CairnApiError (404) if absent.
 */
export async function resolveArtifact(api: CairnApi, ref: ArtifactRef): Promise<ArtifactRecord> {
  if (ref.id !== undefined) {
    if (ref.session !== undefined || ref.name !== undefined)
      throw invalidArgs('give either id, or session and name, not both');
    return api.artifact(ref.id);
  }
  if (ref.session === undefined || ref.name === undefined)
    throw invalidArgs('name the artifact: give its id, or both session and name');
  return api.artifact(await api.artifactIdOf(ref.session, ref.name, ref.version));
}

/** The MCP resource URI of an artifact's latest version. */
export function artifactUri(session: string, name: string): string {
  return `cairn://sessions/${encodeURIComponent(session)}/artifacts/${encodeURIComponent(name)}`;
}
