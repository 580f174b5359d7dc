import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RequestTracker } from './request-tracker.js';

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
 * Stops accepting, ends idle keep-alive connections and resolves once every connection has
 * ended. Requests in flight get `graceMs` to finish; after it every connection is cut except one
 * whose write request may be committing (see {@link RequestTracker.committing}), which is cut
 * as soon as its handler has answered. So a client that never reads its answer (a download, a
 * large 201 it left unread) cannot hold the close forever, and a 2xx is never lost to the close
 * while its commit is underway. Sets `tracker.stopping` (new requests are refused). Safe to call
 * once per server.
 */
export function closeServer(
  server: http.Server,
  tracker: RequestTracker,
  graceMs: number,
): Promise<void> {
  tracker.stopping = true;
  return new Promise<void>((resolve) => {
    // A response that finishes just after close() leaves a keep-alive socket that close()
    // alone would wait on for the keep-alive timeout: keep closing idle ones.
    let cut = false;
    const idle = setInterval(() => {
      server.closeIdleConnections();
      if (cut) tracker.cutAllButCommits();
    }, 50);
    const grace = setTimeout(() => {
      cut = true;
      tracker.cutAllButCommits();
    }, graceMs);
    server.close(() => {
      clearInterval(idle);
      clearTimeout(grace);
      resolve();
    });
    server.closeIdleConnections();
  });
}
