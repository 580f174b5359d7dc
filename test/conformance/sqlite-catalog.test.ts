import { describe } from 'vitest';
import { FsBlobStore } from '../../src/blobs/fs/fs-blob-store.js';
import { TieredBlobStore } from '../../src/blobs/tiered/tiered-blob-store.js';
import { SqliteCatalog } from '../../src/catalog/sqlite/sqlite-catalog.js';
import { tempDir } from '../helpers/server.js';
import { runCatalogConcurrencySuite } from './catalog-concurrency-suite.js';
import { runCatalogRecoveryRaceSuite } from './catalog-recovery-race-suite.js';
import { runCatalogSuite } from './catalog-suite.js';
import { runCatalogLifecycleSuite } from './catalog-lifecycle-suite.js';
import { runCatalogNodesSuite } from './catalog-nodes-suite.js';
import { runCatalogEventSuite } from './catalog-events-suite.js';
import { runCatalogEventConcurrencySuite } from './catalog-events-concurrency-suite.js';
import { runCatalogDumpSuite } from './catalog-dump-suite.js';

/** The conformance suites against SQLite (and files for the bytes). */
const open = (dir: string) => SqliteCatalog.open({ dir, durability: 'full' });

describe('SqliteCatalog conformance', () => runCatalogSuite(async () => open(tempDir())));

describe('SqliteCatalog lifecycle', () => runCatalogLifecycleSuite(async () => open(tempDir())));

describe('SqliteCatalog event stream', () => runCatalogEventSuite(async () => open(tempDir())));

/** Two instances over one file, opened as two processes would (each with its own blobs tier). */
async function openPair() {
  const dir = tempDir();
  // Two connections, WAL, a busy timeout each.
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
}

describe('SqliteCatalog, two instances over one file', () => runCatalogConcurrencySuite(openPair));

describe('SqliteCatalog start-up recovery, two instances over one file', () =>
  runCatalogRecoveryRaceSuite(openPair));

describe('SqliteCatalog, two nodes over one file', () => runCatalogNodesSuite(openPair));

describe('SqliteCatalog event stream, two instances over one file', () =>
  runCatalogEventConcurrencySuite(openPair));

describe('SqliteCatalog dump (backup, restore, migrate)', () =>
  runCatalogDumpSuite(async () => open(tempDir())));
