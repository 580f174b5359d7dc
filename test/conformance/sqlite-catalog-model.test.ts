import { describe } from 'vitest';
import { SqliteCatalog } from '../../src/catalog/sqlite/sqlite-catalog.js';
import { tempDir } from '../helpers/server.js';
import { runCatalogModelSuite } from './catalog-model-suite.js';

// Durability plays no part in the lifecycle rules: without the fsync per commit, more histories
// run in the same time. CAIRN_MODEL_RUNS runs fewer (seeds 1..N, a subset of the default).
describe('SqliteCatalog against the lifecycle rules', () =>
  runCatalogModelSuite(async () => SqliteCatalog.open({ dir: tempDir(), durability: 'process' }), {
    runs: Number(process.env.CAIRN_MODEL_RUNS) || undefined,
  }));
