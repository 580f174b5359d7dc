import type { CallToolResult, McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { readAll } from '../../client/cairn-client.js';
import type { ArtifactRecord } from '../../core/types.js';
import { artifactUri, resolveArtifact, type CairnApi, type McpDeps } from '../cairn-api.js';
import { artifactRefShape } from '../schemas.js';
import { isTextType, looksLikeText, utf8Window } from '../text-window.js';
import { guarded, invalidArgs, ok } from '../tool-result.js';
import { pullToFile } from './pull-file.js';
import { rootsText } from './push-tools.js';
import { segment } from '../../client/url-path.js';

/** Smallest window read_artifact reads, whatever `max_bytes` says (see its use). */
const MIN_WINDOW = 8;

/** Default and largest `max_bytes` of read_artifact. */
export const READ_DEFAULT_BYTES = 64 * 1024;
export const READ_MAX_BYTES = 1024 * 1024;

const readSchema = z.object({
  id: z.string(),
  session: z.string(),
  name: z.string(),
  version: z.number().int(),
  content_type: z.string(),
  size: z.number().int(),
  sha256: z.string(),
  uri: z.string().describe('MCP resource URI of the latest version'),
  binary: z.boolean(),
  offset: z.number().int(),
  bytes_returned: z.number().int(),
  next_offset: z.number().int().nullable().describe('Where to continue; null at the end'),
  text: z.string().optional(),
});

/** Registers read_artifact and pull_artifact. */
export function registerReadTools(server: McpServer, deps: McpDeps): void {
  server.registerTool(
    'read_artifact',
    {
      title: 'Read an artifact',
      description: `Read a stored artifact, named by \`id\` or by \`session\` + \`name\` (latest version unless \`version\`). Text comes back inline, at most \`max_bytes\` bytes (default ${READ_DEFAULT_BYTES}, at most ${READ_MAX_BYTES}) starting at byte \`offset\`; when there is more, the result gives \`next_offset\` to read the next part. Binary content (images, archives…) is not put into the conversation: you get a resource link with its size and type; use pull_artifact to save it to a file.`,
      inputSchema: z.object({
        ...artifactRefShape,
        version: z.number().int().min(1).optional().describe('Version (default: latest)'),
        offset: z.number().int().min(0).optional().describe('First byte to read (default 0)'),
        max_bytes: z
          .number()
          .int()
          .min(1)
          .max(READ_MAX_BYTES)
          .optional()
          .describe(
            `Most bytes to return (default ${READ_DEFAULT_BYTES}; at least ${MIN_WINDOW} are read, so a whole character always comes back)`,
          ),
      }),
      outputSchema: readSchema,
      annotations: {
        title: 'Read an artifact',
        readOnlyHint: true,
        destructiveHint: false,
        idempotentHint: true,
        openWorldHint: false,
      },
    },
    async (a) =>
      guarded(async () => {
        const rec = await resolveArtifact(deps.api, a);
        // 8 bytes always hold a whole character after skipping up to 3 bytes of one cut at the
        // offset: a smaller window could return nothing and the same next_offset forever.
        const max = Math.max(MIN_WINDOW, a.max_bytes ?? READ_DEFAULT_BYTES);
        return readWindow(deps.api, rec, a.offset ?? 0, max);
      }),
  );

  server.registerTool(
    'pull_artifact',
    {
      title: 'Save an artifact to a local file',
      description: `Download a stored artifact (by \`id\`, or \`session\` + \`name\` for the latest version) straight to the local file \`path\`, verified against its sha256; its bytes never enter the conversation, so any size works. \`path\` must be under one of the allowed directories (${rootsText(deps)}), never in a Cairn data directory; relative paths start from the first; an existing directory receives the file under its base name; an existing file is replaced.`,
      inputSchema: z.object({
        ...artifactRefShape,
        path: z.string().describe('Local file (or existing directory) to write to'),
      }),
      outputSchema: z.object({
        id: z.string(),
        session: z.string(),
        name: z.string(),
        version: z.number().int(),
        path: z.string(),
        size: z.number().int(),
        sha256: z.string(),
        content_type: z.string(),
      }),
      annotations: {
        title: 'Save an artifact to a local file',
        readOnlyHint: false,
        // It may replace an existing local file.
        destructiveHint: true,
        idempotentHint: true,
        openWorldHint: false,
      },
    },
    async (a) =>
      guarded(async () => {
        const rec = await resolveArtifact(deps.api, a);
        const target = await deps.files.openWritable(a.path, rec.name.split('/').pop() ?? rec.id);
        await pullToFile(deps.api, rec, target);
        return ok(
          {
            id: rec.id,
            session: rec.session,
            name: rec.name,
            version: rec.version,
            path: target.real,
            size: rec.size,
            sha256: rec.sha256,
            content_type: rec.content_type,
          },
          `Saved ${rec.session}/${rec.name} (${rec.size} bytes) to ${target.real}.`,
        );
      }),
  );
}

/** One window of an artifact as text, or a resource link if it is binary. */
async function readWindow(
  api: CairnApi,
  rec: ArtifactRecord,
  offset: number,
  maxBytes: number,
): Promise<CallToolResult> {
  if (offset > rec.size)
    throw invalidArgs(`offset ${offset} is past the end (the artifact has ${rec.size} bytes)`);
  const uri = artifactUri(rec.session, rec.name);
  const base = {
    id: rec.id,
    session: rec.session,
    name: rec.name,
    version: rec.version,
    content_type: rec.content_type,
    size: rec.size,
    sha256: rec.sha256,
    uri,
  };
  let text = isTextType(rec.content_type);
  let chunk: Buffer = Buffer.alloc(0);
  if (text !== false && offset < rec.size) {
    const res = await api.request(
      'GET',
      `/v1/artifacts/${segment(rec.id, 'artifact id')}/content`,
      {
        headers: { Range: `bytes=${offset}-${Math.min(rec.size, offset + maxBytes) - 1}` },
      },
    );
    chunk = await readAll(res);
    text ??= looksLikeText(chunk);
  }
  if (text === false) {
    const structured = { ...base, binary: true, offset: 0, bytes_returned: 0, next_offset: null };
    return {
      content: [
        {
          type: 'resource_link',
          uri,
          name: rec.name,
          mimeType: rec.content_type,
          size: rec.size,
          description: `Binary artifact (${rec.content_type}, ${rec.size} bytes), not shown inline; use pull_artifact to save it to a file.`,
        },
        { type: 'text', text: JSON.stringify(structured) },
      ],
      structuredContent: structured,
    };
  }
  const end = offset + chunk.length;
  const { bytes, start } = utf8Window(chunk, offset, end >= rec.size);
  const next = start + bytes.length < rec.size ? start + bytes.length : null;
  const body = bytes.toString('utf8');
  const structured = {
    ...base,
    binary: false,
    offset: start,
    bytes_returned: bytes.length,
    next_offset: next,
    text: body,
  };
  const note =
    next === null
      ? `[${rec.session}/${rec.name} v${rec.version}: bytes ${start}-${start + bytes.length} of ${rec.size}, end of artifact]`
      : `[${rec.session}/${rec.name} v${rec.version}: bytes ${start}-${start + bytes.length} of ${rec.size}; ${rec.size - next} more bytes: call read_artifact with id=${rec.id} offset=${next} to continue]`;
  return {
    content: [{ type: 'text', text: `${body}\n${note}` }],
    structuredContent: structured,
  };
}
