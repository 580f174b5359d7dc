import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { spawnServer, tempDir, type ServerProcess } from '../helpers/server.js';
import { ArtifactaClient } from './artifacta-client.js';

// The seed's round trip, as a team coming from Artifacta does it: `cairn serve` (the real
// binary) with the Artifacta listener from CAIRN_ARTIFACTA_LISTEN, a key minted by the CLI,
// everything through the Artifacta API, then seen through Cairn's own CLI.
let server: ServerProcess;
let apiUrl = '';
let key = '';
const output = Buffer.from(JSON.stringify({ invoice: 42, total: '12.50' }));
const cli = (args: string[]) => runCli(['--url', server.url, '--token', server.token, ...args]);

beforeAll(async () => {
  server = await spawnServer(tempDir(), [], { CAIRN_ARTIFACTA_LISTEN: '127.0.0.1:0' });
  // The address line follows the Cairn one; wait for it.
  const printed = () => /Artifacta API listening on (\S+)/.exec(server.stdout())?.[1];
  for (let i = 0; i < 200 && !printed(); i++) await new Promise((r) => setTimeout(r, 50));
  apiUrl = printed() ?? '';
  const created = await cli(['token', 'create', '--artifacta', '--scope', 'write', '--json']);
  expect(created.code, created.stderr).toBe(0);
  key = (JSON.parse(created.stdout) as { token: string }).token;
});
afterAll(async () => server?.stop());

describe('cairn serve --artifacta-listen', () => {
  it('a value that is not HOST:PORT is a usage error (exit 2) naming the flag', async () => {
    const r = await runCli(['serve', '--data', tempDir(), '--artifacta-listen', 'nonsense']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--artifacta-listen must be HOST:PORT');
  });
});

describe('the seed round trip through the Artifacta listener', () => {
  it('push output.json into run_42, list by metadata, seal, download; seen by Cairn', async () => {
    expect(apiUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(key).toMatch(/^ak_live_[A-Za-z0-9]{32}$/);
    const client = new ArtifactaClient(apiUrl, key);
    const pushed = await client.storeMultipart(
      {
        filename: 'output.json',
        session_id: 'run_42',
        metadata: { agent: 'claude-sonnet', pipeline: 'billing' },
      },
      [output],
    );
    expect(pushed.status, JSON.stringify(pushed.body)).toBe(201);
    const id = String(pushed.body.artifact_id);
    const listed = await client.list({
      'metadata.agent': 'claude-sonnet',
      'metadata.pipeline': 'billing',
    });
    expect(listed.body.artifacts?.map((a) => a.artifact_id)).toEqual([id]);
    const sealed = await client.seal('run_42');
    expect(sealed.body).toMatchObject({
      session_id: 'run_42',
      status: 'sealed',
      artifact_count: 1,
    });
    const url = await client.downloadUrl(id);
    const got = await client.download(String(url.body.download_url));
    expect(got.bytes.equals(output)).toBe(true);

    // Cairn's CLI sees the same artifact, its metadata and the seal.
    const ls = await cli(['ls', '--session', 'run_42', '--meta', 'agent=claude-sonnet', '--json']);
    expect(ls.code, ls.stderr).toBe(0);
    const { items } = JSON.parse(ls.stdout) as {
      items: { id: string; name: string; meta: object; sha256: string }[];
    };
    expect(items.map((a) => a.name)).toEqual(['output.json']);
    expect(items[0].meta).toEqual({ agent: 'claude-sonnet', pipeline: 'billing' });
    expect(items[0].sha256).toBe(createHash('sha256').update(output).digest('hex'));
    expect(items[0].id).toBe(pushed.body.cairn_id);
    const show = await cli(['show', 'run_42', '--json']);
    expect((JSON.parse(show.stdout) as { sealed: boolean }).sealed).toBe(true);
    const verify = await cli(['verify', 'run_42']);
    expect(verify.code, verify.stderr + verify.stdout).toBe(0);
    const dir = tempDir();
    const pull = await cli(['pull', 'run_42/output.json', '-o', join(dir, 'out.json')]);
    expect(pull.code, pull.stderr).toBe(0);
    expect(readFileSync(join(dir, 'out.json')).equals(output)).toBe(true);
  });

  it('the other way round: pushed by Cairn, listed and fetched through Artifacta', async () => {
    const dir = tempDir();
    const file = join(dir, 'notes.md');
    writeFileSync(file, '# notes');
    const push = await cli(['push', file, '--session', 'run_43', '--meta', 'agent=cairn-cli']);
    expect(push.code, push.stderr).toBe(0);
    const client = new ArtifactaClient(apiUrl, key);
    const listed = await client.list({ session_id: 'run_43' });
    const rec = listed.body.artifacts?.[0];
    expect(rec).toMatchObject({
      filename: 'notes.md',
      session_id: 'run_43',
      metadata: { agent: 'cairn-cli' },
    });
    expect(rec?.artifact_id).toMatch(/^art_[A-Za-z0-9]{16}$/);
    // The same id every time it is seen.
    expect((await client.get(String(rec?.artifact_id))).body).toEqual(rec);
    const url = await client.downloadUrl(String(rec?.artifact_id));
    expect((await client.download(String(url.body.download_url))).bytes.toString()).toBe('# notes');
  });
});
