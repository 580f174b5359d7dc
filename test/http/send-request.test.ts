import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CairnApiError, sendRequest } from '../../src/client/send-request.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

// sendRequest imports node:http when it sends, so a stream body waits a moment for the request
// it is piped into: an error the stream emits then must reject the send, not escape as an
// uncaught exception.

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => s.close());

describe('sendRequest', () => {
  it('sends a stream body over plain HTTP and resolves with the answer', async () => {
    const res = await sendRequest(
      { url: s.url, token: s.token },
      'PUT',
      '/v1/sessions/send_ok/artifacts/a.txt',
      { body: Readable.from([Buffer.from('hello')]) },
    );
    expect(res.statusCode).toBe(201);
    res.resume();
    const got = await s.fetch('/v1/sessions/send_ok/artifacts/a.txt');
    expect(await got.text()).toBe('hello');
  });

  it('rejects when the body stream fails before the request exists, and sends nothing', async () => {
    for (let round = 0; round < 20; round++) {
      const body = new Readable({ read() {} });
      const sent = sendRequest(
        { url: s.url, token: s.token },
        'PUT',
        `/v1/sessions/send_early/artifacts/r${round}.txt`,
        { body },
      );
      // Now, while sendRequest waits for node:http: the request it will pipe into is not made.
      body.emit('error', new Error(`disk read failed ${round}`));
      await expect(sent).rejects.toBeInstanceOf(CairnApiError);
      await expect(sent).rejects.toMatchObject({
        code: 'connection_failed',
        message: expect.stringContaining(`disk read failed ${round}`) as unknown,
      });
    }
    const session = await s.fetch('/v1/sessions/send_early');
    expect(session.status).toBe(404);
  });
});
