import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { spawnServer, tempDir, type ServerProcess } from '../helpers/server.js';

// The real `cairn serve` process and the real CLI: share, shares, unshare.
let server: ServerProcess;
let work: string;
let env: NodeJS.ProcessEnv;
const cli = (args: string[]) => runCli(args, { env, cwd: work });
const json = async <T>(args: string[]): Promise<T> => {
  const r = await cli([...args, '--json']);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as T;
};

beforeAll(async () => {
  work = tempDir();
  server = await spawnServer(join(work, 'data'), ['--max-share-ttl', '2d']);
  env = { CAIRN_URL: server.url, CAIRN_TOKEN: server.token };
  writeFileSync(join(work, 'report.md'), '# shared report\n');
  await runCli(['push', 'report.md', '--session', 'run_7'], { env, cwd: work });
});
afterAll(async () => server.stop());

const linkOf = (stdout: string) => /^(http:\/\/\S+\/s\/cs_\S+)$/m.exec(stdout)?.[1] ?? '';

describe('cairn share', () => {
  it('SESSION/NAME prints a URL that works without a token, up to --max-downloads', async () => {
    const r = await cli(['share', 'run_7/report.md', '--ttl', '1h', '--max-downloads', '3']);
    expect(r.code).toBe(0);
    const url = linkOf(r.stdout);
    expect(url.startsWith(`${server.url}/s/`)).toBe(true);
    expect(r.stdout).toMatch(/\(id sh_[0-9A-Z]{26}, expires \d{4}-/);
    for (let i = 0; i < 3; i++) expect(await (await fetch(url)).text()).toBe('# shared report\n');
    expect((await fetch(url)).status).toBe(410);
  });

  it('ID shares that artifact; SESSION shares the session as a tar; --max-share-ttl caps', async () => {
    const {
      items: [a],
    } = await json<{ items: { id: string }[] }>(['ls', '--session', 'run_7']);
    const byId = await json<{ url: string; artifact_id: string }>(['share', a.id]);
    expect(byId.artifact_id).toBe(a.id);
    expect((await fetch(byId.url)).status).toBe(200);
    const session = await json<{ url: string; kind: string; expires_at: string }>([
      'share',
      'run_7',
      '--ttl',
      '1d',
    ]);
    expect(session.kind).toBe('session');
    const tar = await fetch(session.url);
    expect(tar.headers.get('content-type')).toBe('application/x-tar');
    expect(Buffer.from(await tar.arrayBuffer()).includes('# shared report')).toBe(true);
    const capped = await json<{ expires_at: string }>(['share', 'run_7', '--ttl', '30d']);
    expect(Date.parse(capped.expires_at) - Date.now()).toBeLessThanOrEqual(2 * 86_400_000);
  });

  it('exits 3 for what does not exist and 2 for a bad --max-downloads', async () => {
    const missing = await cli(['share', 'run_7/nope.md']);
    expect(missing.code).toBe(3);
    // The server's reason, not just the status: the name is resolved with a HEAD (no body).
    expect(missing.stderr).toContain("artifact 'nope.md' not found in session 'run_7'");
    expect((await cli(['share', 'no_such_session'])).code).toBe(3);
    expect((await cli(['share', 'run_7', '--max-downloads', '0'])).code).toBe(2);
  });
});

describe('cairn shares and cairn unshare', () => {
  it('lists links with status and downloads; unshare revokes (410 from then on)', async () => {
    const link = await json<{ id: string; url: string }>(['share', 'run_7/report.md']);
    expect((await fetch(link.url)).status).toBe(200);
    const table = await cli(['shares']);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^ID\s+TARGET\s+STATUS\s+DOWNLOADS\s+EXPIRES\s+LAST ACCESS/);
    expect(table.stdout).toMatch(new RegExp(`${link.id}\\s+run_7/report\\.md\\s+active\\s+1\\s`));
    expect(table.stdout).not.toContain(link.url.split('/s/')[1]);
    const un = await cli(['unshare', link.id]);
    expect(un.code).toBe(0);
    expect(un.stdout).toBe(`revoked ${link.id}\n`);
    expect((await fetch(link.url)).status).toBe(410);
    const listed = await json<{ id: string; status: string }[]>(['shares']);
    expect(listed.find((s) => s.id === link.id)?.status).toBe('revoked');
    expect((await cli(['unshare', 'sh_nope'])).code).toBe(3);
  });
});
