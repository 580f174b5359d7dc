import http from 'node:http';
import net from 'node:net';

/** A response read whole. */
export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/**
 * Sends a request with the path exactly as written (fetch would normalize `..` and
 * percent-escapes) and reads the whole answer; rejects after `timeoutMs` (a hang is a failure).
 */
export function rawRequest(
  base: string,
  method: string,
  path: string,
  opts: { body?: string | Buffer; headers?: Record<string, string>; timeoutMs?: number } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    // A fresh connection per request: one request's answer can't be blamed on another's.
    const headers: Record<string, string | number> = { ...opts.headers };
    // Node sends a GET/DELETE body without a length, which reads as a second, garbage request.
    if (opts.body !== undefined && headers['Content-Length'] === undefined)
      headers['Content-Length'] = Buffer.byteLength(opts.body);
    const req = http.request(`${base}/`, { method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      );
      res.on('error', reject);
    });
    req.setTimeout(opts.timeoutMs ?? 15_000, () =>
      req.destroy(new Error(`no answer to ${method} ${path.slice(0, 80)} (hang)`)),
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

/**
 * Writes `head` and `bodyPart` on a bare socket, then either closes (truncated body) or waits;
 * resolves with whatever the server answered (possibly nothing) once the socket closes.
 */
export function socketRequest(
  base: string,
  head: string,
  bodyPart: Buffer,
  opts: { closeAfterMs?: number; timeoutMs?: number } = {},
): Promise<string> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(url.port), url.hostname);
    let answer = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the server never closed the connection: ${answer.slice(0, 200)}`));
    }, opts.timeoutMs ?? 20_000);
    socket.on('connect', () => {
      socket.write(head);
      socket.write(bodyPart);
      if (opts.closeAfterMs !== undefined) setTimeout(() => socket.end(), opts.closeAfterMs);
    });
    socket.on('data', (d: Buffer) => (answer += d.toString('utf8')));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(answer);
    });
  });
}
