import { McpServer } from '@modelcontextprotocol/server';
import { versionInfo } from '../version.js';
import type { McpDeps } from './cairn-api.js';
import { registerArtifactResources } from './resources.js';
import { registerPushTools } from './tools/push-tools.js';
import { registerQueryTools } from './tools/query-tools.js';
import { registerReadTools } from './tools/read-tools.js';
import { registerSessionTools } from './tools/session-tools.js';

const INSTRUCTIONS = `Cairn stores the files you produce (reports, data, code) as artifacts in named sessions, so they outlive this conversation and others can find them.
- Save output with push_artifact (text you wrote) or push_file (a file on disk; large files too). Tag it with meta, e.g. {"agent": "claude", "stage": "draft"}.
- Find things with query_artifacts / list_sessions / get_session; read text with read_artifact (in parts for big files); save to disk with pull_artifact.
- seal_session makes a finished session read-only forever; share_artifact makes an expiring download link.
Errors come back with a code and what to do next.`;

/**
 * Builds one MCP server instance with every Cairn tool and the artifact resource template,
 * working through `deps`. The single definition both transports serve: `cairn mcp` (stdio)
 * and `/mcp` on `cairn serve` (Streamable HTTP, one instance per request).
 */
export function createCairnMcpServer(deps: McpDeps): McpServer {
  const server = new McpServer(
    { name: 'cairn', title: 'Cairn artifact store', version: versionInfo().version },
    {
      instructions: INSTRUCTIONS,
      // Clients send logging/setLevel routinely; Cairn accepts it but reports everything
      // through tool results, so it never has log messages to send.
      capabilities: { logging: {} },
    },
  );
  registerPushTools(server, deps);
  registerReadTools(server, deps);
  registerQueryTools(server, deps);
  registerSessionTools(server, deps);
  registerArtifactResources(server, deps);
  return server;
}
