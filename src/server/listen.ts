import type http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Starts `server` listening on `host`:`port` (0 picks a free port) and resolves to its base URL
 * (`http://127.0.0.1:7070`, `http://[::1]:7070`). Rejects with the listen error (EADDRINUSE, …).
 */
export async function listenOn(server: http.Server, port: number, host: string): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const shown = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return `http://${shown}:${addr.port}`;
}

/**
 * Stops accepting, ends idle keep-alive connections and resolves once the requests in flight
 * have ended. Safe to call once per server.
 */
export function closeServer(server: http.Server): Promise<void> {
  return new Promise<void>((resolve) => {
    // A response that finishes just after close() leaves a keep-alive socket that close()
    // alone would wait on for the keep-alive timeout: keep closing idle ones.
    const idle = setInterval(() => server.closeIdleConnections(), 50);
    server.close(() => {
      clearInterval(idle);
      resolve();
    });
    server.closeIdleConnections();
  });
}
