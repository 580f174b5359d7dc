import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadNativeBinding, nativeCacheDirs } from '../../src/binary/native-binding-cache.js';
import { CairnError } from '../../src/lib/errors.js';
import { ROOT, tempDir } from '../helpers/server.js';

// The extraction logic of the single binary, run here on the system Node with the
// better_sqlite3.node built for it (the binary runs the same code with its embedded copy).

const bytes = readFileSync(
  join(ROOT, 'node_modules/better-sqlite3/build/Release/better_sqlite3.node'),
);
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function fresh(): string {
  const d = tempDir('cairn-native-');
  dirs.push(d);
  return d;
}

describe('loadNativeBinding', () => {
  it('installs the file under its hash and returns a module better-sqlite3 accepts', () => {
    const dir = join(fresh(), 'native');
    const binding = loadNativeBinding({
      bytes,
      name: 'better_sqlite3',
      env: { CAIRN_NATIVE_DIR: dir },
    });
    const files = readdirSync(dir);
    expect(files).toEqual([expect.stringMatching(/^better_sqlite3-[0-9a-f]{32}\.node$/)]);
    const db = new Database(':memory:', { nativeBinding: binding as string });
    expect(db.prepare('select 1 + 1 as two').get()).toEqual({ two: 2 });
    db.close();
  });

  it('replaces a cached file whose bytes do not match its hash', () => {
    const dir = join(fresh(), 'native');
    // Planted before any load (overwriting a file this process has mapped would crash it).
    const file = `better_sqlite3-${createHash('sha256').update(bytes).digest('hex').slice(0, 32)}.node`;
    mkdirSync(dir, { mode: 0o700 });
    writeFileSync(join(dir, file), 'truncated');
    loadNativeBinding({ bytes, name: 'better_sqlite3', env: { CAIRN_NATIVE_DIR: dir } });
    expect(readFileSync(join(dir, file)).equals(bytes)).toBe(true);
    expect(readdirSync(dir)).toEqual([file]);
  });

  it('falls through to the next directory when one is refused', () => {
    const base = fresh();
    const shared = join(base, 'shared');
    mkdirSync(join(shared, 'cairn', 'native'), { recursive: true });
    chmodSync(join(shared, 'cairn', 'native'), 0o777);
    const home = join(base, 'home');
    const env = { XDG_CACHE_HOME: shared, HOME: home };
    expect(nativeCacheDirs(env).slice(0, 2)).toEqual([
      join(shared, 'cairn', 'native'),
      join(home, '.cache', 'cairn', 'native'),
    ]);
    loadNativeBinding({ bytes, name: 'better_sqlite3', env });
    expect(readdirSync(join(shared, 'cairn', 'native'))).toEqual([]);
    expect(readdirSync(join(home, '.cache', 'cairn', 'native'))).toHaveLength(1);
  });

  it('fails with native_binding_unavailable naming CAIRN_NATIVE_DIR when nothing works', () => {
    const base = fresh();
    const notDir = join(base, 'file');
    writeFileSync(notDir, '');
    let err: unknown;
    try {
      loadNativeBinding({ bytes, name: 'better_sqlite3', env: { CAIRN_NATIVE_DIR: notDir } });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CairnError);
    expect((err as CairnError).code).toBe('native_binding_unavailable');
    expect((err as Error).message).toContain('CAIRN_NATIVE_DIR');
  });

  it('a file that is not a shared object is reported as not loadable', () => {
    const dir = join(fresh(), 'native');
    expect(() =>
      loadNativeBinding({
        bytes: Buffer.from('not an ELF file'),
        name: 'better_sqlite3',
        env: { CAIRN_NATIVE_DIR: dir },
      }),
    ).toThrow(/cannot load .*better_sqlite3-[0-9a-f]{32}\.node.*noexec/s);
  });
});
