import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CairnClient } from '../../src/client/cairn-client.js';
import { waitSealed } from '../../src/client/pipeline-client.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => s.close());

describe('waitSealed with a deadline already past', () => {
  // `cairn wait` first asks with a 1 ms deadline; on a busy machine that is past before the
  // request goes out, and a timeout of 0 is refused by the server (it failed a CI run).
  it('still asks (1 ms) and answers, never sends timeout=0', async () => {
    const client = new CairnClient({ url: s.url, token: s.token });
    const open = await waitSealed(client, 'not_yet', 0);
    expect(open.sealed).toBe(false);
    await client.push('done', 'a.txt', 'a');
    await client.seal('done');
    expect((await waitSealed(client, 'done', 0)).sealed).toBe(true);
  });
});
