import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { blobStoreRegistry } from '../../src/blobs/blob-store-registry.js';
import { catalogRegistry } from '../../src/catalog/catalog-registry.js';
import { makeConfig } from '../../src/config.js';
import {
  BackendRegistry,
  localPathOf,
  localUrl,
  schemeOf,
} from '../../src/lib/backend-registry.js';
import type { CairnError } from '../../src/lib/errors.js';

/** The code of what `fn` throws. */
function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return (err as CairnError).code;
  }
  return 'ok';
}

describe('backend URLs', () => {
  it.each([
    ['sqlite:/abs/catalog.db', '/abs/catalog.db'],
    ['sqlite:///abs/catalog.db', '/abs/catalog.db'],
    ['SQLite:/abs/x.db', '/abs/x.db'],
    ['sqlite:rel/catalog.db', resolve('rel/catalog.db')],
    ['sqlite:./rel/catalog.db', resolve('rel/catalog.db')],
    ['file:/srv/a b/100%', '/srv/a b/100%'],
  ])('%s names %s', (url, path) => {
    expect(localPathOf(url, '--catalog')).toBe(path);
  });

  it.each(['sqlite://host/x.db', 'sqlite:', 'file://'])('%s is refused', (url) => {
    expect(codeOf(() => localPathOf(url, '--catalog'))).toBe('invalid_backend_url');
  });

  it('a path round-trips through localUrl, and the defaults follow the data dir', () => {
    expect(localPathOf(localUrl('sqlite:', '/a/b #?.db'), '--catalog')).toBe('/a/b #?.db');
    const c = makeConfig({ dataDir: 'some-data' });
    expect(c.catalogUrl).toBe(`sqlite:${join(resolve('some-data'), 'catalog.db')}`);
    expect(c.blobsUrl).toBe(`file:${resolve('some-data')}`);
    expect(makeConfig({ catalogUrl: 'sqlite:/x.db' }).catalogUrl).toBe('sqlite:/x.db');
  });

  it('a Windows drive is not a scheme', () => {
    expect(schemeOf('C:/data')).toBeNull();
    expect(schemeOf('postgres://db/x')).toBe('postgres:');
  });
});

describe('BackendRegistry', () => {
  it('knows sqlite: and postgres: for catalogs, and file: and s3: for blobs', () => {
    expect(catalogRegistry.schemes()).toEqual(['sqlite:', 'postgres:', 'postgresql:']);
    expect(blobStoreRegistry.schemes()).toEqual(['file:', 's3:']);
  });

  it('refuses an unknown scheme naming the known ones, and text that is no URL', async () => {
    await expect(
      catalogRegistry.open('mysql://db/cairn', { durability: 'process' }),
    ).rejects.toThrow(
      "--catalog: no catalog backend for 'mysql:'; this build knows sqlite:, postgres:, postgresql:",
    );
    expect(codeOf(() => blobStoreRegistry.check('gs://bucket'))).toBe('unknown_backend');
    expect(codeOf(() => blobStoreRegistry.check('s3://bucket?colour=red'))).toBe(
      'invalid_backend_url',
    );
    expect(codeOf(() => blobStoreRegistry.check('/srv/blobs'))).toBe('invalid_backend_url');
  });

  it('opens what a registered factory builds, and a scheme is registered once', async () => {
    const r = new BackendRegistry<string, { n: number }>('thing', '--thing');
    r.register('mem:', async (url, o) => `${url} ${o.n}`);
    expect(await r.open('MEM:x', { n: 2 })).toBe('MEM:x 2');
    expect(() => r.register('mem:', async () => '')).toThrow(/taken/);
  });
});
