import http from 'node:http';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';

// Clients of a test server's MCP endpoint (`/mcp` over Streamable HTTP).

/** An SDK client connected to `${url}/mcp` with `token` (options as the SDK's Client takes). */
export async function connectMcp(
  url: string,
  token: string,
  options?: ConstructorParameters<typeof Client>[1],
  name = 'cairn-test',
): Promise<Client> {
  const c = new Client({ name, version: '1.0.0' }, options);
  await c.connect(
    new StreamableHTTPClientTransport(new URL(`${url}/mcp`), {
      requestInit: { headers: { Authorization: `Bearer ${token}` } },
    }),
  );
  return c;
}

/** A raw POST to /mcp with chosen headers (fetch would not let us forge Host). */
export function rawMcpPost(
  url: string,
  headers: Record<string, string>,
): Promise<{ status: number; body: string }> {
  const body = JSON.stringify({
    jsonrpc: '2.0',
    id: 1,
    method: 'initialize',
    params: {
      protocolVersion: '2025-11-25',
      capabilities: {},
      clientInfo: { name: 't', version: '1' },
    },
  });
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${url}/mcp`,
      {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          Accept: 'application/json, text/event-stream',
          ...headers,
        },
      },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
