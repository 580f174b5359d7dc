import { describe } from 'vitest';
import { FsBlobStore } from '../../src/blobs/fs/fs-blob-store.js';
import { TieredBlobStore } from '../../src/blobs/tiered/tiered-blob-store.js';
import { SqliteCatalog } from '../../src/catalog/sqlite/sqlite-catalog.js';
import { tempDir } from '../helpers/server.js';
import { runCatalogConcurrencySuite } from './catalog-concurrency-suite.js';
import { runCatalogSuite } from './catalog-suite.js';
import { runCatalogLifecycleSuite } from './catalog-lifecycle-suite.js';
import { runCatalogDumpSuite } from './catalog-dump-suite.js';

/** The conformance suites against SQLite (and files for the bytes). */
const open = (dir: string) => SqliteCatalog.open({ dir, durability: 'full' });

describe('SqliteCatalog conformance', () => runCatalogSuite(async () => open(tempDir())));

describe('SqliteCatalog lifecycle', () => runCatalogLifecycleSuite(async () => open(tempDir())));

describe('SqliteCatalog, two instances over one file', () =>
  runCatalogConcurrencySuite(async () => {
    const dir = tempDir();
    // Opened as two processes would: two connections, WAL, a busy timeout each.
    const a = open(dir);
    const b = open(dir);
    const files = new FsBlobStore({ root: dir, durable: true });
    await files.recover();
    const blobs = (c: SqliteCatalog) =>
      new TieredBlobStore({
        small: c.capabilities.inlineBlobs!,
        large: files,
        inlineMax: 64 * 1024,
      });
    return {
      a,
      b,
      blobsA: blobs(a),
      blobsB: blobs(b),
      close: async () => {
        await a.close();
        await b.close();
        await files.close();
      },
    };
  }));

describe('SqliteCatalog dump (backup, restore, migrate)', () =>
  runCatalogDumpSuite(async () => open(tempDir())));
