import type { CallToolResult } from '@modelcontextprotocol/server';
import { CairnApiError } from '../client/cairn-client.js';
import { CairnError } from '../lib/errors.js';

/** A successful tool result: the structured value, also as JSON text for older clients. */
export function ok(structured: Record<string, unknown>, note?: string): CallToolResult {
  const text = JSON.stringify(structured);
  return {
    content: [{ type: 'text', text: note ? `${note}\n${text}` : text }],
    structuredContent: structured,
  };
}

/** What a model should do next, by Cairn error code (the message says what was wrong). */
const NEXT_STEP: Record<string, string> = {
  session_sealed:
    'Sealed sessions are read-only forever: push into a new session id instead (for example the same id with a suffix like -2).',
  not_found:
    'Check the id, or the session and name, with query_artifacts or get_session; it may also have expired.',
  blob_not_found: 'Push the bytes themselves instead of a reference.',
  gone: 'It has expired or been revoked; push it again or ask for a new share link.',
  unauthorized:
    "The MCP server's Cairn token is missing or invalid: ask the user to set CAIRN_TOKEN (for HTTP, the Authorization: Bearer header).",
  forbidden:
    'The token this MCP server uses lacks the permission: ask the user for a token with the needed scope, or use a session the token may write to.',
  connection_failed:
    'The Cairn server is not reachable: ask the user to start it (`cairn serve`) or to set CAIRN_URL.',
  payload_too_large:
    'The content is too large for this call: write it to a file and use push_file, which streams from disk.',
  path_not_allowed: 'Use a path under one of the allowed directories.',
  path_changed:
    'Something moved or replaced a directory on that path while the tool ran: call the tool again; if it keeps failing, tell the user.',
  file_not_found: 'Check the path; relative paths are taken from the first allowed directory.',
  digest_mismatch: 'The bytes changed while being sent: try again.',
  insufficient_storage: 'The server is out of disk space: tell the user; retrying will not help.',
  internal: 'This is a server problem, not your input: tell the user; the server log has details.',
};

/**
 * The one MCP translation point for errors: any failure becomes an `isError` result carrying
 * Cairn's error code and a message that says what went wrong and what to do next. Unknown
 * errors are reported generically (their details go to stderr, never to the model).
 */
export function fail(err: unknown): CallToolResult {
  let code: string;
  let message: string;
  let details: unknown;
  if (err instanceof CairnApiError || err instanceof CairnError) {
    code = err.code;
    message = err.message;
    details = err instanceof CairnError ? err.details : undefined;
  } else {
    code = 'internal';
    message = 'the MCP server hit an unexpected error';
    process.stderr.write(
      `${JSON.stringify({ level: 'error', msg: 'mcp tool failed', error: (err as Error)?.message, stack: (err as Error)?.stack })}\n`,
    );
  }
  const next =
    NEXT_STEP[code] ??
    (code.startsWith('invalid_') ? 'Fix that argument and call the tool again.' : undefined);
  const error = {
    code,
    message,
    ...(next ? { next_step: next } : {}),
    ...(details ? { details } : {}),
  };
  return {
    isError: true,
    content: [{ type: 'text', text: `Error ${code}: ${message}${next ? `\n${next}` : ''}` }],
    structuredContent: { error },
  };
}

/** Runs a tool body, turning every thrown error into an `isError` result. */
export async function guarded(fn: () => Promise<CallToolResult>): Promise<CallToolResult> {
  try {
    return await fn();
  } catch (err) {
    return fail(err);
  }
}

/** 400 `invalid_input` for argument combinations a schema cannot express. */
export function invalidArgs(message: string): CairnError {
  return new CairnError('invalid_input', 400, message);
}
