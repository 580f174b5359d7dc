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

/**
 * Writes `request` as it is on a bare socket (nothing added: no Host, no length) and parses
 * the one answer the server sends (by its Content-Length), then closes the socket.
 */
export function rawExchange(base: string, request: string): Promise<RawResponse> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(url.port), url.hostname);
    let data = Buffer.alloc(0);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(
        new Error(`no whole answer to ${request.slice(0, 60)}: ${data.toString().slice(0, 200)}`),
      );
    }, 15_000);
    const done = (answer: RawResponse) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    socket.on('connect', () => socket.write(request));
    socket.on('error', () => undefined);
    socket.on('data', (d: Buffer) => {
      data = Buffer.concat([data, d]);
      const end = data.indexOf('\r\n\r\n');
      if (end < 0) return;
      const [statusLine, ...lines] = data.subarray(0, end).toString('latin1').split('\r\n');
      const headers: http.IncomingHttpHeaders = {};
      for (const l of lines) {
        const i = l.indexOf(':');
        headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
      }
      const length = Number(headers['content-length'] ?? 0);
      if (data.length < end + 4 + length) return;
      done({
        status: Number(statusLine.split(' ')[1]),
        headers,
        body: data.subarray(end + 4, end + 4 + length).toString('utf8'),
      });
    });
    socket.on('close', () => {
      clearTimeout(timer);
      reject(new Error(`closed without a whole answer: ${data.toString().slice(0, 200)}`));
    });
  });
}
