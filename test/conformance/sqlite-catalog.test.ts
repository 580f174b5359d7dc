import { describe } from 'vitest';
import { FsBlobStore } from '../../src/blobs/fs/fs-blob-store.js';
import { TieredBlobStore } from '../../src/blobs/tiered/tiered-blob-store.js';
import { SqliteCatalog } from '../../src/catalog/sqlite/sqlite-catalog.js';
import { tempDir } from '../helpers/server.js';
import { runCatalogConcurrencySuite } from './catalog-concurrency-suite.js';
import { runCatalogSuite } from './catalog-suite.js';
import { runCatalogLifecycleSuite } from './catalog-lifecycle-suite.js';
import { runCatalogModelSuite } from './catalog-model-suite.js';

/** The conformance suites against SQLite (and files for the bytes). */
const open = (dir: string) => SqliteCatalog.open({ dir, durability: 'full' });

describe('SqliteCatalog conformance', () => runCatalogSuite(async () => open(tempDir())));

describe('SqliteCatalog lifecycle', () => runCatalogLifecycleSuite(async () => open(tempDir())));

// Durability plays no part in the lifecycle rules: without the fsync per commit, more histories
// run in the same time. CAIRN_MODEL_RUNS runs fewer (seeds 1..N, a subset of the default).
describe('SqliteCatalog against the lifecycle rules', () =>
  runCatalogModelSuite(async () => SqliteCatalog.open({ dir: tempDir(), durability: 'process' }), {
    runs: Number(process.env.CAIRN_MODEL_RUNS) || undefined,
  }));

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
