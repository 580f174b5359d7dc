import type { IncomingMessage } from 'node:http';
import { PassThrough, type Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readMultipart } from '../../src/server/artifacta/multipart.js';
import { startArtifactaTestServer, type ArtifactaTestServer } from '../helpers/artifacta.js';
import { ArtifactaClient } from './artifacta-client.js';

/** Parses `body` fed `step` bytes at a time; returns the fields and the file's bytes. */
async function parse(body: Buffer, step: number) {
  const req = new PassThrough();
  const fields: Record<string, string> = {};
  let file = Buffer.alloc(0);
  const done = readMultipart(req as unknown as IncomingMessage, 'XyZ', 'file', {
    field: (name, value) => (fields[name] = value),
    file: async (_head, stream: Readable) => {
      for await (const c of stream) file = Buffer.concat([file, c as Buffer]);
    },
  });
  for (let i = 0; i < body.length; i += step) req.write(body.subarray(i, i + step));
  req.end();
  await done;
  return { fields, file };
}

describe('multipart parser', () => {
  // Bytes that look like the start of a delimiter, split at every possible chunk boundary.
  const content = Buffer.from('a\r\n--Xy\r\n-\r\n--X\r\n--XyY--XyZ\r\n--Xy\r');
  const body = Buffer.concat([
    Buffer.from(
      '--XyZ\r\nContent-Disposition: form-data; name="filename"\r\n\r\nf.bin\r\n' +
        '--XyZ\r\nContent-Disposition: form-data; name="metadata"\r\n\r\n{"k":"v"}\r\n' +
        '--XyZ\r\nContent-Disposition: form-data; name="file"; filename="f.bin"\r\n' +
        'Content-Type: application/octet-stream\r\n\r\n',
    ),
    content,
    Buffer.from('\r\n--XyZ--\r\n'),
  ]);
  it.each([1, 2, 3, 5, 7, 64, body.length])('%i byte(s) at a time', async (step) => {
    const { fields, file } = await parse(body, step);
    expect(fields).toEqual({ filename: 'f.bin', metadata: '{"k":"v"}' });
    expect(file.equals(content)).toBe(true);
  });

  it('parts after the file part are read as parts, never written into the ended file', async () => {
    const after = Buffer.from(
      '--XyZ\r\nContent-Disposition: form-data; name="file"; filename="f.bin"\r\n\r\nabc\r\n' +
        '--XyZ\r\nContent-Disposition: form-data; name="note"\r\n\r\nlater\r\n--XyZ--\r\n',
    );
    for (const step of [1, 7, after.length]) {
      const { fields, file } = await parse(after, step);
      expect(fields).toEqual({ note: 'later' });
      expect(file.toString()).toBe('abc');
    }
  });

  it('a body cut before its closing delimiter is invalid_request', async () => {
    await expect(parse(body.subarray(0, body.length - 5), 4)).rejects.toMatchObject({
      code: 'invalid_request',
    });
  });
});

describe('Idempotency-Key under concurrency', () => {
  let s: ArtifactaTestServer;
  beforeAll(async () => {
    s = await startArtifactaTestServer();
  });
  afterAll(async () => s.close());

  it('a file part before the other fields, or two file parts, never takes the server down', async () => {
    const part = (name: string, value: string, filename = '') =>
      `--XyZ\r\nContent-Disposition: form-data; name="${name}"${filename ? `; filename="${filename}"` : ''}\r\n\r\n${value}\r\n`;
    const send = (body: string) =>
      fetch(`${s.aUrl}/v1/artifacts`, {
        method: 'POST',
        headers: {
          Authorization: `Bearer ${s.key}`,
          'Content-Type': 'multipart/form-data; boundary=XyZ',
        },
        body,
      });
    const first = await send(
      `${part('file', 'x', 'first.txt')}${part('filename', 'other.txt')}--XyZ--\r\n`,
    );
    expect(first.status).toBe(201);
    expect(((await first.json()) as { filename: string }).filename).toBe('first.txt');
    const two = await send(`${part('file', 'x', 'a.txt')}${part('file', 'y', 'b.txt')}--XyZ--\r\n`);
    expect(two.status).toBe(400);
    expect((await fetch(`${s.aUrl}/health`)).status).toBe(200);
  });

  it('overlapping retries with one key store one artifact and all answer it', async () => {
    const client = new ArtifactaClient(s.aUrl, s.key);
    for (let round = 0; round < 5; round++) {
      const key = `mcp_${crypto.randomUUID()}`;
      const session = `idem_${round}`;
      const answers = await Promise.all([
        ...Array.from({ length: 4 }, () =>
          client.store({ filename: 'r.txt', content: `round ${round}`, session_id: session }, key),
        ),
        ...Array.from({ length: 4 }, () =>
          client.storeMultipart(
            { filename: 'r.txt', session_id: session },
            [Buffer.from(`round ${round}`)],
            key,
          ),
        ),
      ]);
      const ok = answers.filter((a) => a.status === 201);
      expect(ok.length).toBe(8);
      expect(new Set(ok.map((a) => a.body.artifact_id)).size).toBe(1);
      const listed = await client.list({ session_id: session });
      expect(listed.body.artifacts).toHaveLength(1);
    }
  });
});
