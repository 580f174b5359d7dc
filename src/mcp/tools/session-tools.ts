import type { McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { resolveArtifact, type McpDeps } from '../cairn-api.js';
import { artifactRefShape, sessionIdSchema, sessionSchema, ttlSchema } from '../schemas.js';
import { guarded, ok } from '../tool-result.js';

/** Registers seal_session and share_artifact. */
export function registerSessionTools(server: McpServer, deps: McpDeps): void {
  server.registerTool(
    'seal_session',
    {
      title: 'Seal a session',
      description:
        'Seal a session when its work is done: from then on it is read-only forever (no new artifacts, no deletions) and carries a digest over all its artifacts that anyone can verify. This cannot be undone, so seal only when the user is done with the session. Sealing an already sealed session returns it unchanged.',
      inputSchema: z.object({ session: sessionIdSchema }),
      outputSchema: sessionSchema,
      annotations: {
        title: 'Seal a session',
        readOnlyHint: false,
        // Irreversible: the session never accepts a change again.
        destructiveHint: true,
        idempotentHint: true,
        openWorldHint: false,
      },
    },
    async (a) =>
      guarded(async () => {
        const s = await deps.api.seal(a.session);
        return ok({ ...s }, `Session ${s.id} is sealed (digest ${s.digest}).`);
      }),
  );

  server.registerTool(
    'share_artifact',
    {
      title: 'Share an artifact',
      description:
        'Create an expiring link that lets anyone download one artifact without a token (named by `id`, or `session` + `name` for the latest version). `ttl` is how long the link works, e.g. 1h or 7d (the server caps it). Only share when the user asks for a link: anyone holding it can download the artifact.',
      inputSchema: z.object({ ...artifactRefShape, ttl: ttlSchema.optional() }),
      outputSchema: z.looseObject({
        id: z.string().describe('Share link id (to revoke it)'),
        url: z.string(),
        expires_at: z.string(),
        artifact_id: z.string().nullable(),
      }),
      annotations: {
        title: 'Share an artifact',
        readOnlyHint: false,
        destructiveHint: false,
        idempotentHint: false,
        openWorldHint: false,
      },
    },
    async (a) =>
      guarded(async () => {
        const rec = await resolveArtifact(deps.api, a);
        const share = await deps.api.share({ artifactId: rec.id }, { ttl: a.ttl });
        return ok(
          { ...share },
          `Link to ${rec.session}/${rec.name} (valid until ${share.expires_at}): ${share.url}`,
        );
      }),
  );
}
