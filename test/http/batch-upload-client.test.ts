import { createHash } from 'node:crypto';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uploadBatch, type BatchFile } from '../../src/client/batch-upload.js';
import { CairnClient } from '../../src/client/cairn-client.js';
import { until } from '../reliability/stalled-uploads.js';
import { startTestServer, tempDir, type TestServer } from '../helpers/server.js';

let s: TestServer;
let client: CairnClient;
let dir: string;
beforeAll(async () => {
  s = await startTestServer();
  client = new CairnClient({ url: s.url, token: s.token });
  dir = tempDir();
});
afterAll(async () => s.close());

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** A file on disk listed with `listed` bytes: what a file that changed after listing looks like. */
function listed(name: string, bytes: Buffer, listedSize: number): BatchFile {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return { path, name, size: listedSize, sha256: sha(bytes) };
}

describe('uploadBatch: a file that changed between listing and sending', () => {
  const body = Buffer.alloc(300_000, 1);
  it.each([
    ['grew', body.length - 1000],
    ['shrank', body.length + 1000],
  ])(
    'a file that %s fails the batch naming the file, and nothing of it is stored',
    async (what, size) => {
      const session = `changed_${what}`;
      const small = { ...listed('small.txt', Buffer.from('s'), 1), bytes: Buffer.from('s') };
      const err = (await uploadBatch(client, session, [
        small,
        listed(`${what}.bin`, body, size),
      ]).then(
        () => null,
        (e: unknown) => e,
      )) as NodeJS.ErrnoException | null;
      expect(err?.message).toContain(`${what}.bin' changed while it was pushed`);
      expect(err?.path).toBe(join(dir, `${what}.bin`));
      const page = (await (await s.fetch(`/v1/artifacts?session=${session}`)).json()) as {
        items: unknown[];
      };
      expect(page.items).toEqual([]);
      // The server drops the aborted upload's temp file once it sees the connection close.
      await until(() => readdirSync(join(s.dataDir, 'tmp')).length === 0);
    },
  );
});
