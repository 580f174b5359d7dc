import { mkdirSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
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

describe('PathGuard', () => {
  const guard = new PathGuard([root], { deny: [join(root, 'data')] });

  it('accepts files under a root, relative paths from the first root, links that stay inside', async () => {
    expect(await guard.readableFile(join(root, 'in.txt'))).toBe(join(root, 'in.txt'));
    expect(await guard.readableFile('in.txt')).toBe(join(root, 'in.txt'));
    expect(await guard.readableFile('to-in')).toBe(join(root, 'in.txt'));
  });

  it.each([
    ['a file outside', () => join(outside, 'secret.txt')],
    ['a ../ escape', () => join(root, '..', outside.split('/').pop()!, 'secret.txt')],
    ['a symlinked file pointing outside', () => 'to-secret'],
    ['a path through a symlinked directory', () => 'to-outside/secret.txt'],
    ['a denied directory under the root', () => 'data/admin.token'],
    ['a missing file outside (no existence leak)', () => join(outside, 'nope')],
  ])('refuses %s', async (_what, path) => {
    await expect(guard.readableFile(path())).rejects.toMatchObject({ code: 'path_not_allowed' });
  });

  it('says file_not_found / not_a_file inside a root', async () => {
    await expect(guard.readableFile('nope.txt')).rejects.toMatchObject({ code: 'file_not_found' });
    await expect(guard.readableFile('.')).rejects.toMatchObject({ code: 'not_a_file' });
  });

  it('writable paths: parents created inside, directories receive the base name, escapes refused', async () => {
    expect(await guard.writableFile('new/deep/out.txt', 'x')).toBe(join(root, 'new/deep/out.txt'));
    expect(await guard.writableFile('new', 'report.md')).toBe(join(root, 'new', 'report.md'));
    for (const p of [
      'to-outside/x.txt',
      'to-outside/sub/x.txt',
      'to-secret',
      'data/x',
      join(outside, 'x'),
    ])
      await expect(guard.writableFile(p, 'x'), p).rejects.toMatchObject({
        code: 'path_not_allowed',
      });
  });

  it('with no roots, every path is refused with a hint to use --allow-path', async () => {
    const none = new PathGuard([]);
    await expect(none.readableFile('/etc/hostname')).rejects.toThrow(/--allow-path/);
  });

  it('a root that does not exist is a clear error', () => {
    expect(() => new PathGuard([join(root, 'missing')])).toThrow(/does not exist/);
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
