import { basename } from 'node:path';
import type { McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import type { McpDeps } from '../cairn-api.js';
import {
  artifactIdSchema,
  artifactNameSchema,
  artifactSchema,
  metaSchema,
  sessionIdSchema,
  ttlSchema,
} from '../schemas.js';
import { guarded, invalidArgs, ok } from '../tool-result.js';

const pushedSchema = z.looseObject({
  ...artifactSchema.shape,
  deduplicated: z.boolean(),
});

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Registers push_artifact and push_file. */
export function registerPushTools(server: McpServer, deps: McpDeps): void {
  server.registerTool(
    'push_artifact',
    {
      title: 'Push an artifact',
      description:
        'Store content you produced (a report, JSON, code, CSV…) as an artifact named `name` in session `session`, so it outlives this conversation. Give exactly one of `text` (UTF-8 text) or `content_base64` (small binary). Pushing the same name again stores a new version. The session is created on first push. For files on disk or anything large, use push_file instead: its bytes never pass through the conversation. Fails with session_sealed if the session is sealed.',
      inputSchema: z.object({
        session: sessionIdSchema,
        name: artifactNameSchema,
        text: z.string().optional().describe('The content as text (exclusive with content_base64)'),
        content_base64: z
          .string()
          .optional()
          .describe('The content as base64 (exclusive with text); keep it small'),
        meta: metaSchema.optional(),
        ttl: ttlSchema.optional(),
        derived_from: z
          .array(artifactIdSchema)
          .optional()
          .describe('Ids of the artifacts this one was made from (lineage)'),
      }),
      outputSchema: pushedSchema,
      annotations: {
        title: 'Push an artifact',
        readOnlyHint: false,
        destructiveHint: false,
        idempotentHint: false,
        openWorldHint: false,
      },
    },
    async (a) =>
      guarded(async () => {
        if ((a.text === undefined) === (a.content_base64 === undefined))
          throw invalidArgs('give exactly one of text or content_base64');
        let body: Buffer;
        if (a.text !== undefined) body = Buffer.from(a.text, 'utf8');
        else {
          const clean = (a.content_base64 ?? '').replace(/\s+/g, '');
          if (!BASE64.test(clean) || clean.length % 4 === 1)
            throw invalidArgs('content_base64 is not valid base64');
          body = Buffer.from(clean, 'base64');
        }
        const rec = await deps.api.push(a.session, a.name, body, {
          meta: a.meta,
          ttl: a.ttl,
          derivedFrom: a.derived_from,
        });
        return ok({ ...rec }, `Stored ${rec.session}/${rec.name} version ${rec.version}.`);
      }),
  );

  server.registerTool(
    'push_file',
    {
      title: 'Push a local file',
      description: `Store a file from the local disk as an artifact in session \`session\`, streamed straight from disk to the store: its bytes never enter the conversation, so any size works. \`path\` must be under one of the allowed directories (${rootsText(deps)}), never in a Cairn data directory; relative paths start from the first. \`name\` defaults to the file's base name. Pushing the same name again stores a new version; identical bytes are stored once.`,
      inputSchema: z.object({
        session: sessionIdSchema,
        path: z.string().describe('Path of the local file to push'),
        name: artifactNameSchema.optional(),
        meta: metaSchema.optional(),
        ttl: ttlSchema.optional(),
      }),
      outputSchema: pushedSchema,
      annotations: {
        title: 'Push a local file',
        readOnlyHint: false,
        destructiveHint: false,
        idempotentHint: false,
        openWorldHint: false,
      },
    },
    async (a) =>
      guarded(async () => {
        const file = await deps.files.openReadable(a.path);
        const rec = await deps.api
          .pushFile(a.session, a.name ?? basename(a.path), file.handle, {
            meta: a.meta,
            ttl: a.ttl,
          })
          .finally(() => file.handle.close());
        return ok(
          { ...rec },
          `Stored ${file.real} as ${rec.session}/${rec.name} version ${rec.version} (${rec.size} bytes).`,
        );
      }),
  );
}

/** The allowed roots, for tool descriptions. */
export function rootsText(deps: McpDeps): string {
  return deps.files.roots.length
    ? deps.files.roots.join(', ')
    : 'none are enabled on this server, so this tool is off';
}
