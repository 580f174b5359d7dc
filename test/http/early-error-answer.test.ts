import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startArtifactaTestServer, type ArtifactaTestServer } from '../helpers/artifacta.js';
import { rawExchange } from '../reliability/raw-http.js';

// An error answered before the request body is read (here a 401: no token): a small announced
// remainder is read and dropped so the connection stays usable, a large one closes the
// connection after the answer. Both listeners share this (respond.ts sendErrorAnswer).

let s: ArtifactaTestServer;
beforeAll(async () => {
  s = await startArtifactaTestServer();
});
afterAll(async () => s.close());

const listeners = [
  { name: 'Cairn', url: () => s.url, head: 'PUT /v1/sessions/early/artifacts/a.txt' },
  { name: 'Artifacta', url: () => s.aUrl, head: 'POST /v1/artifacts' },
];

describe.each(listeners)('$name listener: an early error and the unread body', ({ url, head }) => {
  const send = (length: number, sent: number) =>
    rawExchange(
      url(),
      `${head} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\n` +
        `Content-Length: ${length}\r\n\r\n${'x'.repeat(sent)}`,
    );

  it('keeps the connection for a small remainder (read and dropped)', async () => {
    const r = await send(1000, 1000);
    expect(r.status).toBe(401);
    expect(r.headers.connection).toBe('keep-alive');
  });

  it('closes the connection after the answer when over 4 MiB is announced', async () => {
    const r = await send(100 * 1024 * 1024, 10);
    expect(r.status).toBe(401);
    expect(r.headers.connection).toBe('close');
  });
});
