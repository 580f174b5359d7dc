import { describe } from 'vitest';
import { PgCatalog } from '../../src/catalog/postgres/pg-catalog.js';
import { freshPgDatabase } from '../helpers/engines/pg.js';
import { runCatalogModelSuite } from './catalog-model-suite.js';

// A fresh database per history (dropped when the test ends). CAIRN_MODEL_RUNS runs fewer
// (seeds 1..N, a subset of the default).
describe('PgCatalog against the lifecycle rules', () =>
  runCatalogModelSuite(async () => PgCatalog.open({ url: await freshPgDatabase() }), {
    runs: Number(process.env.CAIRN_MODEL_RUNS) || undefined,
  }));
