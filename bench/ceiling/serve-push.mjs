// The HTTP half shared by the reference servers: PUT /v1/sessions/<s>/artifacts/<name> with a
// bearer token, the body hashed (sha256) while it arrives, then `store(push, done)`; the 201
// carries a JSON answer like Cairn's. As light as a node:http push can be.
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import http from 'node:http';

const PATH = /^\/v1\/sessions\/([^/]+)\/artifacts\/(.+)$/;

/**
 * Starts the server on a loopback port and prints `listening on <url>` (what bench/lib.mjs
 * waits for). `store({session, name, sha256, bytes, contentType}, done)` calls
 * `done({id, version})` once the push is durable.
 */
export function servePushes(token, store) {
  const want = createHash('sha256').update(token).digest();
  const server = http.createServer((req, res) => {
    const given = createHash('sha256')
      .update((req.headers.authorization ?? '').replace(/^Bearer /, ''))
      .digest();
    const m = PATH.exec(req.url ?? '');
    if (!given.equals(want) || req.method !== 'PUT' || !m) {
      res.writeHead(given.equals(want) ? 404 : 401).end();
      req.resume();
      return;
    }
    const chunks = [];
    const hash = createHash('sha256');
    req.on('data', (c) => {
      chunks.push(c);
      hash.update(c);
    });
    req.on('end', () => {
      const bytes = Buffer.concat(chunks);
      const sha256 = hash.digest('hex');
      const push = {
        session: m[1],
        name: m[2],
        sha256,
        bytes,
        contentType: req.headers['content-type'],
      };
      store(push, ({ id, version }) => {
        const body = JSON.stringify({
          id,
          session: push.session,
          name: push.name,
          version,
          sha256,
          size: bytes.length,
          created_at: new Date().toISOString(),
        });
        res.writeHead(201, {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
        });
        res.end(body);
      });
    });
  });
  server.listen(0, '127.0.0.1', () =>
    console.log(`listening on http://127.0.0.1:${server.address().port}`),
  );
}
