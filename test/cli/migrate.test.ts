import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { checkCopy, describeStore, populate } from '../helpers/populated-store.js';
import { CLI, startTestServer, tempDir, type TestServer } from '../helpers/server.js';

const open: TestServer[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function serve(config: Parameters<typeof startTestServer>[0]): Promise<TestServer> {
  const s = await startTestServer(config);
  open.push(s);
  return s;
}

describe('cairn migrate', () => {
  it('moves a populated store whole: every seal verifies, fsck is clean, tokens and share links work, a second run writes nothing', async () => {
    const root = tempDir('cairn-migrate-');
    dirs.push(root);
    const [src, dst] = [join(root, 'src'), join(root, 'dst')];
    const s = await serve({ dataDir: src });
    const p = await populate(s);
    const before = await describeStore(s, p);
    // While a server holds the source, migrate refuses: nothing may change after its snapshot.
    const busy = await runCli(['migrate', '--from', src, '--to', dst]);
    expect(busy.code).toBe(4);
    expect(busy.stderr).toContain('is in use by another cairn serve');
    await open.pop()?.close();

    const r = await runCli(['migrate', '--from', src, '--to', dst]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /^migrated 4 session\(s\), 8 artifact\(s\), 2 token\(s\), 1 share\(s\); 7 blob\(s\) copied/,
    );
    const again = await runCli(['migrate', '--from', src, '--to', dst]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('already migrated: the target holds this store');

    // Into a catalog URL and a blob dir elsewhere, the data dir (seal key) named apart.
    const cat = `sqlite:${join(root, 'cat', 'moved.db')}`;
    const blobs = `file:${join(root, 'blobs')}`;
    const byUrl = await runCli([
      'migrate',
      '--from',
      src,
      '--to',
      `${cat},${blobs}`,
      '--to-data',
      join(root, 'keys'),
    ]);
    expect(byUrl.code, byUrl.stderr).toBe(0);
    expect(byUrl.stdout).toContain(`--catalog ${cat} --blobs ${blobs}`);

    const t = await serve({ dataDir: dst });
    expect(await describeStore(t, p)).toEqual(before);
    await checkCopy(t, p);
    const u = await serve({ dataDir: join(root, 'keys'), catalogUrl: cat, blobsUrl: blobs });
    expect(await describeStore(u, p)).toEqual(before);
    await checkCopy(u, p);
    await open.pop()?.close();
    await open.pop()?.close();

    // The target changed since (checkCopy pushed): it is no longer this store, so a run refuses.
    const refused = await runCli(['migrate', '--from', src, '--to', dst]);
    expect(refused.code).toBe(4);
    expect(refused.stderr).toContain(
      'the target already holds another store (4 session(s), 8 artifact(s)',
    );
  });

  it('killed midway, leaves a target serve refuses; the same migrate then finishes it', async () => {
    const root = tempDir('cairn-migrate-');
    dirs.push(root);
    const [src, dst] = [join(root, 'src'), join(root, 'dst')];
    const s = await serve({ dataDir: src });
    const p = await populate(s);
    const before = await describeStore(s, p);
    await open.pop()?.close();
    // One source blob file becomes a FIFO nobody writes to: the copy stops there, inside the
    // blobs and before the catalog, every run, whatever the machine's speed.
    const large = [...p.bytes.values()].find((b) => b.length === 200_000) as Buffer;
    const h = createHash('sha256').update(large).digest('hex');
    const file = join(src, 'blobs', h.slice(0, 2), h.slice(2, 4), h);
    renameSync(file, `${file}.real`);
    execFileSync('mkfifo', [file]);
    const child = spawn(process.execPath, [CLI, 'migrate', '--from', src, '--to', dst], {
      stdio: 'ignore',
    });
    while (!existsSync(join(dst, 'restore.partial'))) await new Promise((r) => setTimeout(r, 20));
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
    rmSync(file);
    renameSync(`${file}.real`, file);

    const refused = await runCli(['serve', '--data', dst, '--port', '0']);
    expect(refused.code).toBe(4);
    expect(refused.stderr).toContain('stopped midway (restore.partial is there)');
    const again = await runCli(['migrate', '--from', src, '--to', dst]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('(finished a run that had stopped midway)');
    const t = await serve({ dataDir: dst });
    expect(await describeStore(t, p)).toEqual(before);
    await checkCopy(t, p);
  });

  it('refuses a target holding another store, changing nothing', async () => {
    const root = tempDir('cairn-migrate-');
    dirs.push(root);
    const s = await serve({ dataDir: join(root, 'a') });
    await populate(s);
    await open.pop()?.close();
    const other = await serve({ dataDir: join(root, 'b') }); // a fresh store: its admin token
    await open.pop()?.close();
    void other;
    const r = await runCli(['migrate', '--from', join(root, 'a'), '--to', join(root, 'b')]);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain(
      'the target already holds another store (0 session(s), 0 artifact(s), 1 token(s))',
    );
    const b = await serve({ dataDir: join(root, 'b') });
    expect(((await (await b.fetch('/v1/sessions')).json()) as { items: unknown[] }).items).toEqual(
      [],
    );
  });

  it('says what is wrong with its flags', async () => {
    const pg = await runCli(['migrate', '--from', 'x', '--to', 'nosuch://db']);
    expect(pg.code).not.toBe(0);
    expect(pg.stderr).toContain("no catalog backend for 'nosuch:'");
  });
});
