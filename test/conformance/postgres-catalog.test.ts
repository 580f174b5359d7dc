import { describe } from 'vitest';
import { FsBlobStore } from '../../src/blobs/fs/fs-blob-store.js';
import { TieredBlobStore } from '../../src/blobs/tiered/tiered-blob-store.js';
import { PgCatalog } from '../../src/catalog/postgres/pg-catalog.js';
import { freshPgDatabase } from '../helpers/engines/pg.js';
import { tempDir } from '../helpers/server.js';
import { runCatalogConcurrencySuite } from './catalog-concurrency-suite.js';
import { runCatalogRecoveryRaceSuite } from './catalog-recovery-race-suite.js';
import { runCatalogSuite } from './catalog-suite.js';
import { runCatalogLifecycleSuite } from './catalog-lifecycle-suite.js';
import { runCatalogNodesSuite } from './catalog-nodes-suite.js';
import { runCatalogEventSuite } from './catalog-events-suite.js';
import { runCatalogEventConcurrencySuite } from './catalog-events-concurrency-suite.js';
import { runCatalogDumpSuite } from './catalog-dump-suite.js';

/** The conformance suites against PostgreSQL (a fresh database per case; files for the bytes). */
const open = async () => PgCatalog.open({ url: await freshPgDatabase() });

describe('PgCatalog conformance', () => runCatalogSuite(open));

describe('PgCatalog lifecycle', () => runCatalogLifecycleSuite(open));

describe('PgCatalog event stream', () => runCatalogEventSuite(open));

/** Two instances over one database (two pools, as two nodes would have; files for the bytes). */
async function openPair() {
  const url = await freshPgDatabase();
  // Two pools, as two nodes would have.
  const a = await PgCatalog.open({ url });
  const b = await PgCatalog.open({ url });
  const dir = tempDir();
  const files = new FsBlobStore({ root: dir, durable: true });
  await files.recover();
  const blobs = (c: PgCatalog) =>
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

describe('PgCatalog, two instances over one database', () => runCatalogConcurrencySuite(openPair));

describe('PgCatalog start-up recovery, two instances over one database', () =>
  runCatalogRecoveryRaceSuite(openPair));

describe('PgCatalog, two nodes over one database', () => runCatalogNodesSuite(openPair));

describe('PgCatalog event stream, two instances over one database', () =>
  runCatalogEventConcurrencySuite(openPair));

describe('PgCatalog dump (backup, restore, migrate)', () => runCatalogDumpSuite(open));
