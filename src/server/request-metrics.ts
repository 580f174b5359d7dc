import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Metrics } from '../core/metrics.js';

/** Socket byte counters already attributed to earlier requests on the same connection. */
const seen = new WeakMap<Socket, { read: number; written: number }>();

/** Routes whose latency is also reported as query latency. */
const QUERY_ROUTES = new Set(['GET /v1/artifacts', 'GET /v1/sessions']);

/**
 * Records one finished request (`statusCode` as answered, 499 if the client left first): count
 * by route and status class, latency histogram by route,
 * query latency for the query routes, and the bytes it moved (socket deltas, headers
 * included; requests on one keep-alive connection run one after another, so deltas add up).
 * `route` is the route's pattern (`GET /v1/artifacts/:id`), never the raw path, so the number of
 * series stays bounded.
 */
export function observeRequest(
  metrics: Metrics,
  req: IncomingMessage,
  statusCode: number,
  route: string,
  seconds: number,
): void {
  const status = `${Math.floor(statusCode / 100)}xx`;
  metrics.inc('cairn_http_requests_total', 'HTTP requests by route and status class', {
    route,
    status,
  });
  metrics.observe('cairn_http_request_duration_seconds', 'HTTP request latency', seconds, {
    route,
  });
  if (QUERY_ROUTES.has(route))
    metrics.observe('cairn_query_duration_seconds', 'Artifact and session query latency', seconds);
  const socket = req.socket as Socket | null;
  if (!socket) return;
  const last = seen.get(socket) ?? { read: 0, written: 0 };
  const now = { read: socket.bytesRead, written: socket.bytesWritten };
  seen.set(socket, now);
  metrics.inc(
    'cairn_http_received_bytes_total',
    'Bytes received (bytes in)',
    {},
    now.read - last.read,
  );
  metrics.inc(
    'cairn_http_sent_bytes_total',
    'Bytes sent (bytes out)',
    {},
    now.written - last.written,
  );
}
