import type { McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import type { McpDeps } from '../cairn-api.js';
import { artifactSchema, metaSchema, sessionIdSchema, sessionSchema } from '../schemas.js';
import { guarded, ok } from '../tool-result.js';

/** Default and largest number of items a listing tool returns. */
export const LIST_DEFAULT = 20;
export const LIST_MAX = 100;
/** Largest number of a session's artifacts get_session returns. */
export const SESSION_ARTIFACTS_MAX = 200;

const READ_ONLY = {
  readOnlyHint: true,
  destructiveHint: false,
  idempotentHint: true,
  openWorldHint: false,
} as const;

/** Registers query_artifacts, list_sessions and get_session. */
export function registerQueryTools(server: McpServer, deps: McpDeps): void {
  server.registerTool(
    'query_artifacts',
    {
      title: 'Find artifacts',
      description: `Find stored artifacts, newest first. All filters combine with AND and are applied by the server before the result is cut to \`limit\` (default ${LIST_DEFAULT}, at most ${LIST_MAX}); \`has_more\` says when more match (narrow the filters to see them). Filters: \`session\`; \`meta\` {"key": "value"} (a value ending in * is a prefix); \`type\` like application/json or image/*; \`name\` a glob like reports/*.md; \`where\` an expression over metadata and fields, e.g. agent = 'claude' and (score >= 0.9 or stage in ('qa','prod')). Returns records (id, session, name, version, size, content_type, meta…), not content: use read_artifact for that.`,
      inputSchema: z.object({
        session: sessionIdSchema.optional(),
        meta: metaSchema.optional(),
        type: z.string().optional().describe('Content type, or a family like image/*'),
        name: z.string().optional().describe('Glob over names: * ? […]'),
        where: z.string().optional().describe('Filter expression (see description)'),
        limit: z.number().int().min(1).max(LIST_MAX).optional(),
      }),
      outputSchema: z.object({
        items: z.array(artifactSchema),
        count: z.number().int(),
        has_more: z.boolean(),
      }),
      annotations: { title: 'Find artifacts', ...READ_ONLY },
    },
    async (a) =>
      guarded(async () => {
        const page = await deps.api.query({
          session: a.session,
          meta: a.meta,
          type: a.type,
          name: a.name,
          where: a.where,
          limit: a.limit ?? LIST_DEFAULT,
        });
        const more = page.next_cursor !== null;
        return ok(
          { items: page.items, count: page.items.length, has_more: more },
          `${page.items.length} artifact(s)${more ? '; more match: narrow the filters or raise limit' : ''}.`,
        );
      }),
  );

  server.registerTool(
    'list_sessions',
    {
      title: 'List sessions',
      description: `List sessions (named runs that group artifacts), newest first, at most ${LIST_MAX}; \`has_more\` says when more match. Filter by \`meta\` {"key": "value"} and by \`sealed\` (true: finished and read-only; false: still open). Use get_session for one session's artifacts.`,
      inputSchema: z.object({
        meta: metaSchema.optional(),
        sealed: z.boolean().optional().describe('Only sealed (true) or only open (false) sessions'),
      }),
      outputSchema: z.object({
        items: z.array(sessionSchema),
        count: z.number().int(),
        has_more: z.boolean(),
      }),
      annotations: { title: 'List sessions', ...READ_ONLY },
    },
    async (a) =>
      guarded(async () => {
        const page = await deps.api.sessions({ meta: a.meta, sealed: a.sealed, limit: LIST_MAX });
        const more = page.next_cursor !== null;
        return ok(
          { items: page.items, count: page.items.length, has_more: more },
          `${page.items.length} session(s)${more ? '; more match: add filters to narrow them' : ''}.`,
        );
      }),
  );

  server.registerTool(
    'get_session',
    {
      title: 'Get a session',
      description: `One session: its metadata, whether it is sealed (and its digest), and its artifacts (every version, at most ${SESSION_ARTIFACTS_MAX}; \`artifacts_truncated\` says when there are more — use query_artifacts with session to filter them).`,
      inputSchema: z.object({ session: sessionIdSchema }),
      outputSchema: z.looseObject({
        ...sessionSchema.shape,
        artifacts: z.array(artifactSchema),
        artifacts_truncated: z.boolean(),
      }),
      annotations: { title: 'Get a session', ...READ_ONLY },
    },
    async (a) =>
      guarded(async () => {
        const s = await deps.api.session(a.session);
        const truncated = s.artifacts.length > SESSION_ARTIFACTS_MAX;
        return ok({
          ...s,
          artifacts: truncated ? s.artifacts.slice(-SESSION_ARTIFACTS_MAX) : s.artifacts,
          artifacts_truncated: truncated,
        });
      }),
  );
}
