import { describe, vi } from 'vitest';
import { PgCatalog } from '../../src/catalog/postgres/pg-catalog.js';
import { freshPgDatabase } from '../helpers/engines/pg.js';
import { runCatalogModelSuite } from './catalog-model-suite.js';

// A fresh database per history (dropped when the test ends), each step a round trip to the
// server: 15 histories (seeds 1..15) take ~65 s here, so the file allows 4 minutes.
// CAIRN_MODEL_RUNS runs another number.
vi.setConfig({ testTimeout: 240_000 });

describe('PgCatalog against the lifecycle rules', () =>
  runCatalogModelSuite(async () => PgCatalog.open({ url: await freshPgDatabase() }), {
    runs: Number(process.env.CAIRN_MODEL_RUNS) || 15,
  }));
