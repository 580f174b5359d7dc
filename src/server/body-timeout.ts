import type { IncomingMessage, ServerResponse } from 'node:http';
import { CairnError } from '../lib/errors.js';
import { errorEnvelope } from './respond.js';

/**
 * Aborts a request whose body stalls: once `ms` pass without a byte while the body is still
 * incomplete, answers 408 `request_timeout` (if nothing was sent yet) and closes the
 * connection, which fails the handler's read so nothing half-received is stored. Requests
 * without a body (long polls, event streams) are never timed out here. `ms <= 0` disables it.
 */
export function guardBodyIdle(req: IncomingMessage, res: ServerResponse, ms: number): void {
  const hasBody =
    req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length']) > 0;
  if (ms <= 0 || !hasBody || req.complete) return;
  const onTimeout = () => {
    if (req.complete) return;
    const socket = req.socket;
    if (res.headersSent) {
      socket.destroy();
      return;
    }
    const { body } = errorEnvelope(
      new CairnError(
        'request_timeout',
        408,
        `the request body stalled for more than ${ms / 1000} s; send it again in one go`,
      ),
    );
    const text = JSON.stringify(body);
    res.writeHead(408, {
      'Content-Type': 'application/json; charset=utf-8',
      'Content-Length': Buffer.byteLength(text),
      Connection: 'close',
    });
    res.end(text, () => socket.destroy());
  };
  // On the request (not the socket): the server then leaves the socket to us, see socketOnTimeout.
  req.setTimeout(ms, onTimeout);
  const clear = () => {
    req.removeListener('timeout', onTimeout);
    req.socket?.setTimeout(0);
  };
  req.once('end', clear);
  req.once('close', clear);
}
