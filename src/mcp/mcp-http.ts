import type { IncomingMessage, ServerResponse } from 'node:http';
import { toNodeHandler } from '@modelcontextprotocol/node';
import { createMcpHandler } from '@modelcontextprotocol/server';
import { CairnClient } from '../client/cairn-client.js';
import { createCairnMcpServer } from './cairn-mcp-server.js';
import { checkHostAndOrigin } from './host-check.js';
import { PathGuard } from './path-guard.js';

/** How `/mcp` is set up on `cairn serve`. */
export interface McpHttpOptions {
  /** Directories push_file / pull_artifact may use on the server's disk (default: none). */
  allowPaths?: string[];
  /** Never touched by file tools, even under an allowed directory (the data dir). */
  denyPaths?: string[];
  /** With no `allowPaths`: how to turn the file tools on (names the right flag). */
  offHint?: string;
  /** Host names allowed besides localhost and IP literals (the public URL's, a named host). */
  hostNames?: string[];
}

/** The caller of one `/mcp` request, already authenticated by the server's route table. */
export interface McpCaller {
  /** The bearer secret: forwarded so the API applies exactly this token's scope. */
  token: string;
  tokenId: string;
  scope: string;
}

/**
 * The Streamable HTTP face of the MCP server: stateless (a fresh server instance per request,
 * built by the same factory as `cairn mcp`), behind Host/Origin validation. Tools call the
 * HTTP API of this very server, on the address the request arrived at, with the caller's
 * token, so an MCP call can do exactly what the token could do over HTTP and nothing more.
 */
export class McpHttpEndpoint {
  private readonly files: PathGuard;
  /** For read-only tokens: pull_artifact writes on the server's disk, so it needs write scope. */
  private readonly noFiles = new PathGuard([], {
    offHint: 'connect with a write or admin token (these tools use the server disk)',
  });
  private readonly hostNames: string[];
  private readonly handle: ReturnType<typeof toNodeHandler>;

  constructor(opts: McpHttpOptions = {}) {
    this.files = new PathGuard(opts.allowPaths ?? [], {
      deny: opts.denyPaths,
      offHint: opts.offHint ?? 'ask the operator to start `cairn serve` with --mcp-allow-path DIR',
    });
    this.hostNames = opts.hostNames ?? [];
    const onerror = (err: Error) =>
      process.stderr.write(
        `${JSON.stringify({ level: 'error', msg: 'mcp http', error: err.message })}\n`,
      );
    const handler = createMcpHandler(
      (ctx) => {
        const extra = ctx.authInfo?.extra as { selfUrl: string } | undefined;
        if (!ctx.authInfo || !extra) throw new Error('mcp request without its caller');
        const api = new CairnClient({ url: extra.selfUrl, token: ctx.authInfo.token });
        const mayWrite = ctx.authInfo.scopes.some((sc) => sc === 'write' || sc === 'admin');
        return createCairnMcpServer({ api, files: mayWrite ? this.files : this.noFiles });
      },
      { onerror },
    );
    this.handle = toNodeHandler(handler, { onerror });
  }

  /**
   * Serves one request to `/mcp`. Throws 403 `host_not_allowed` / `origin_not_allowed` before
   * reading anything; otherwise answers the request itself.
   */
  async serve(req: IncomingMessage, res: ServerResponse, caller: McpCaller): Promise<void> {
    checkHostAndOrigin(req.headers, this.hostNames);
    const authed = Object.assign(req, {
      auth: {
        token: caller.token,
        clientId: caller.tokenId,
        scopes: [caller.scope],
        extra: { selfUrl: selfUrl(req) },
      },
    });
    await this.handle(authed, res);
  }
}

/** The base URL of this server as the request reached it (the socket's local address). */
function selfUrl(req: IncomingMessage): string {
  let addr = req.socket.localAddress ?? '127.0.0.1';
  if (addr.startsWith('::ffff:')) addr = addr.slice(7);
  const host = addr.includes(':') ? `[${addr}]` : addr;
  return `http://${host}:${req.socket.localPort}`;
}
