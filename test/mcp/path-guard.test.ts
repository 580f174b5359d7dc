import { existsSync, mkdirSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PathGuard } from '../../src/mcp/path-guard.js';
import { isTextType, looksLikeText, utf8Window } from '../../src/mcp/text-window.js';
import { tempDir } from '../helpers/server.js';

const root = realpathSync(tempDir('cairn-guard-'));
const outside = realpathSync(tempDir('cairn-guard-out-'));
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
  rmSync(outside, { recursive: true, force: true });
});
writeFileSync(join(root, 'in.txt'), 'in');
writeFileSync(join(outside, 'secret.txt'), 'secret');
symlinkSync(join(outside, 'secret.txt'), join(root, 'to-secret'));
symlinkSync(outside, join(root, 'to-outside'));
symlinkSync(join(root, 'in.txt'), join(root, 'to-in'));
mkdirSync(join(root, 'data'));
writeFileSync(join(root, 'data', 'admin.token'), 't');

// A directory that looks like a Cairn data directory (not in the deny list).
mkdirSync(join(root, 'other-data', 'blobs'), { recursive: true });
writeFileSync(join(root, 'other-data', 'seal.key'), 'k');
writeFileSync(join(root, 'other-data', 'blobs', 'b'), 'blob');
mkdirSync(join(root, 'loose'));
writeFileSync(join(root, 'loose', 'admin.token'), 't');
symlinkSync(join(root, 'other-data'), join(root, 'to-data'));

const guard = new PathGuard([root], { deny: [join(root, 'data')], offHint: 'use --flag-x' });

/** The real path of a file the guard opens for reading (closed again). */
async function readable(path: string): Promise<string> {
  const f = await guard.openReadable(path);
  await f.handle.close();
  return f.real;
}

/** The real path a pull to `path` would write (the open directory closed again). */
async function writable(path: string, fallback: string): Promise<string> {
  const t = await guard.openWritable(path, fallback);
  await t.dir.close();
  return t.real;
}

describe('PathGuard', () => {
  it('accepts files under a root, relative paths from the first root, links that stay inside', async () => {
    expect(await readable(join(root, 'in.txt'))).toBe(join(root, 'in.txt'));
    expect(await readable('in.txt')).toBe(join(root, 'in.txt'));
    expect(await readable('to-in')).toBe(join(root, 'in.txt'));
  });

  it.each([
    ['a file outside', () => join(outside, 'secret.txt')],
    ['a ../ escape', () => join(root, '..', outside.split('/').pop()!, 'secret.txt')],
    ['a symlinked file pointing outside', () => 'to-secret'],
    ['a path through a symlinked directory', () => 'to-outside/secret.txt'],
    ['a denied directory under the root', () => 'data/admin.token'],
    ['a missing file outside (no existence leak)', () => join(outside, 'nope')],
    ['a file in a directory that looks like a data dir', () => 'other-data/blobs/b'],
    ['a data-dir-looking directory through a symlink', () => 'to-data/seal.key'],
    ['a secret file by name anywhere', () => 'loose/admin.token'],
    ['a secret file in a data-dir-looking directory', () => 'other-data/seal.key'],
  ])('refuses %s', async (_what, path) => {
    await expect(guard.openReadable(path())).rejects.toMatchObject({ code: 'path_not_allowed' });
  });

  it('says file_not_found / not_a_file inside a root', async () => {
    await expect(guard.openReadable('nope.txt')).rejects.toMatchObject({
      code: 'file_not_found',
    });
    await expect(guard.openReadable('.')).rejects.toMatchObject({ code: 'not_a_file' });
  });

  it('writable paths: parents created inside, directories receive the base name, escapes refused', async () => {
    expect(await writable('new/deep/out.txt', 'x')).toBe(join(root, 'new/deep/out.txt'));
    expect(await writable('new', 'report.md')).toBe(join(root, 'new', 'report.md'));
    for (const p of [
      'to-outside/x.txt',
      'to-outside/sub/x.txt',
      'to-secret',
      'data/x',
      'data/new-sub/x',
      'other-data/x',
      'other-data/new-sub/x',
      'to-data/x',
      'loose/admin.token',
      'elsewhere/seal.key',
      join(outside, 'x'),
    ])
      await expect(guard.openWritable(p, 'x'), p).rejects.toMatchObject({
        code: 'path_not_allowed',
      });
    // Nothing was created on the way to a refused directory.
    expect(existsSync(join(root, 'data', 'new-sub'))).toBe(false);
    expect(existsSync(join(root, 'other-data', 'new-sub'))).toBe(false);
    expect(existsSync(join(root, 'elsewhere'))).toBe(false);
  });

  it('with no roots, every path is refused with the hint it was given', async () => {
    const none = new PathGuard([], { offHint: 'start it with --flag-x DIR' });
    await expect(none.openReadable('/etc/hostname')).rejects.toThrow(/--flag-x DIR/);
    await expect(none.openWritable('x', 'x')).rejects.toMatchObject({ code: 'path_not_allowed' });
  });

  it('a root that does not exist, or inside a data directory, is a clear error', () => {
    expect(() => new PathGuard([join(root, 'missing')])).toThrow(/does not exist/);
    expect(() => new PathGuard([join(root, 'other-data', 'blobs')])).toThrow(/data directory/);
    expect(() => new PathGuard([join(root, 'data')], { deny: [join(root, 'data')] })).toThrow(
      /data directory/,
    );
  });
});

describe('text windows', () => {
  it('knows text types, and sniffs bytes of unknown type', () => {
    expect(isTextType('text/markdown; charset=utf-8')).toBe(true);
    expect(isTextType('application/json')).toBe(true);
    expect(isTextType('application/vnd.api+json')).toBe(true);
    expect(isTextType('image/png')).toBe(false);
    expect(isTextType('application/octet-stream')).toBeUndefined();
    expect(looksLikeText(Buffer.from('plain ✓ text'))).toBe(true);
    expect(looksLikeText(Buffer.from([0x41, 0, 0x42]))).toBe(false);
    expect(looksLikeText(Buffer.from([0xff, 0xfe, 0x41]))).toBe(false);
  });

  it('cuts on character boundaries at both ends', () => {
    const buf = Buffer.from('a✓b'); // 61 e2 9c 93 62
    expect(utf8Window(buf.subarray(0, 3), 0, false)).toEqual({ bytes: Buffer.from('a'), start: 0 });
    expect(utf8Window(buf.subarray(2), 2, true)).toEqual({ bytes: Buffer.from('b'), start: 4 });
    expect(utf8Window(buf, 0, true).bytes.toString()).toBe('a✓b');
  });
});
