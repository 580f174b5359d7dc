import {
  ProtocolError,
  ProtocolErrorCode,
  ResourceNotFoundError,
  ResourceTemplate,
  type McpServer,
  type ReadResourceResult,
} from '@modelcontextprotocol/server';
import { CairnApiError, readAll } from '../client/cairn-client.js';
import { artifactUri, type McpDeps } from './cairn-api.js';
import { isTextType, looksLikeText } from './text-window.js';

/** The resource template every artifact is reachable under. */
export const ARTIFACT_TEMPLATE = 'cairn://sessions/{sid}/artifacts/{name}';
/** Largest artifact a resource read returns whole (below the 10 MiB stdio message limit). */
export const RESOURCE_MAX_BYTES = 4 * 1024 * 1024;
/** How many artifacts the resource listing shows (the newest latest versions). */
export const RESOURCE_LIST_MAX = 100;

/**
 * Registers `cairn://sessions/{sid}/artifacts/{name}` (name percent-encoded, `/` as %2F): the
 * latest version of an artifact, text as text and anything else as a base64 blob, up to
 * {@link RESOURCE_MAX_BYTES}; the listing shows the newest artifacts.
 */
export function registerArtifactResources(server: McpServer, deps: McpDeps): void {
  server.registerResource(
    'artifact',
    new ResourceTemplate(ARTIFACT_TEMPLATE, {
      list: async () => {
        const page = await deps.api.query({ latest: true, limit: RESOURCE_LIST_MAX });
        return {
          resources: page.items.map((a) => ({
            uri: artifactUri(a.session, a.name),
            name: `${a.session}/${a.name}`,
            title: `${a.session}/${a.name} (v${a.version})`,
            mimeType: a.content_type,
            size: a.size,
          })),
        };
      },
    }),
    {
      title: 'Cairn artifact',
      description:
        'The latest version of an artifact: cairn://sessions/{session}/artifacts/{name}, with the name percent-encoded',
    },
    async (uri, vars): Promise<ReadResourceResult> => {
      const sid = decodeURIComponent(String(vars.sid));
      const name = decodeURIComponent(String(vars.name));
      try {
        const id = await deps.api.artifactIdOf(sid, name);
        const rec = await deps.api.artifact(id);
        if (rec.size > RESOURCE_MAX_BYTES)
          throw new ProtocolError(
            ProtocolErrorCode.InvalidParams,
            `${sid}/${name} has ${rec.size} bytes, more than a resource read returns (${RESOURCE_MAX_BYTES}); use the read_artifact tool (text, in parts) or pull_artifact (to a file)`,
          );
        const bytes = await readAll(await deps.api.downloadById(rec.id));
        const text = isTextType(rec.content_type) ?? looksLikeText(bytes);
        return {
          contents: [
            text
              ? { uri: uri.href, mimeType: rec.content_type, text: bytes.toString('utf8') }
              : { uri: uri.href, mimeType: rec.content_type, blob: bytes.toString('base64') },
          ],
        };
      } catch (err) {
        if (err instanceof CairnApiError && err.status === 404)
          throw new ResourceNotFoundError(uri.href, `no artifact ${sid}/${name}`);
        if (err instanceof CairnApiError)
          throw new ProtocolError(
            err.status >= 400 && err.status < 500
              ? ProtocolErrorCode.InvalidRequest
              : ProtocolErrorCode.InternalError,
            `${err.code}: ${err.message}`,
          );
        throw err;
      }
    },
  );
}
