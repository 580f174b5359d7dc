import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { CairnError, InvalidInputError } from '../lib/errors.js';
import { errorEnvelope, sendError } from './respond.js';

/**
 * Answers, with the JSON envelope, what node:http would otherwise answer by itself before any
 * handler runs (a bare 400, 417 or 431, or a closed socket): malformed requests and heads that
 * are too large or too slow ('clientError'), CONNECT, and an `Expect` other than
 * `100-continue`. What node still answers itself is listed in the README (Reliability).
 */
export function bindProtocolEdges(
  server: http.Server,
  limits: { maxHeaderBytes: number; headersTimeoutMs: number },
): void {
  const { maxHeaderBytes, headersTimeoutMs } = limits;
  // Without a listener node closes a CONNECT's socket without a word.
  server.on('connect', (_req: http.IncomingMessage, socket: Duplex) => {
    const err = new CairnError(
      'method_not_allowed',
      405,
      'CONNECT is not allowed: Cairn is not a proxy',
    );
    endWithError(socket, 405, 'Method Not Allowed', err);
  });
  // Node answers an Expect other than 100-continue with a bare 417 unless told how.
  server.on('checkExpectation', (req: http.IncomingMessage, res: http.ServerResponse) => {
    const expectation = String(req.headers.expect).slice(0, 60);
    sendError(
      req,
      res,
      new CairnError(
        'expectation_failed',
        417,
        `Expect: ${expectation} is not supported; send no Expect header, or Expect: 100-continue`,
      ),
      () => undefined,
    );
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (!socket.writable) return socket.destroy();
    const [status, reason, code, message] =
      err.code === 'HPE_HEADER_OVERFLOW'
        ? [
            431,
            'Request Header Fields Too Large',
            'headers_too_large',
            `request headers are larger than ${maxHeaderBytes} bytes`,
          ]
        : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? [
              408,
              'Request Timeout',
              'request_timeout',
              `the request head took longer than ${headersTimeoutMs / 1000} s`,
            ]
          : [400, 'Bad Request', 'bad_request', 'malformed HTTP request'];
    endWithError(socket, status, reason, new CairnError(code, status, message));
  });
}

/**
 * Refuses what RFC 9112 says a server must not guess at: an HTTP/1.1 request without exactly
 * one Host (400), and a transfer coding other than plain `chunked` (501: the coded bytes would
 * be stored as the content).
 */
export function checkFraming(req: http.IncomingMessage): void {
  if (req.httpVersion === '1.1') {
    let hosts = 0;
    for (let i = 0; i < req.rawHeaders.length; i += 2)
      if (req.rawHeaders[i].toLowerCase() === 'host') hosts++;
    if (hosts !== 1)
      throw new InvalidInputError(
        'invalid_host',
        hosts === 0
          ? 'an HTTP/1.1 request needs a Host header'
          : `the request has ${hosts} Host headers; send exactly one`,
      );
  }
  const te = req.headers['transfer-encoding'];
  if (te !== undefined && te.trim().toLowerCase() !== 'chunked')
    throw new CairnError(
      'unsupported_transfer_encoding',
      501,
      `Transfer-Encoding '${te.slice(0, 60)}' is not supported; send the body as it is (Content-Length or chunked alone), compressed only if it is meant to be stored compressed`,
    );
}

/** Answers on a bare socket (no response object exists) with the envelope, and closes it. */
function endWithError(socket: Duplex, status: number, reason: string, err: CairnError): void {
  const text = JSON.stringify(errorEnvelope(err).body);
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`,
  );
}
