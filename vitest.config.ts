import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The rolling upgrade builds the previous schema's release from git history (a shallow
    // clone has none) and takes ~1.5 min: it runs with the long node tests (npm run nodes:long).
    exclude: [
      ...configDefaults.exclude,
      ...(process.env.CAIRN_NODES_LONG ? [] : ['test/nodes/rolling-upgrade.test.ts']),
    ],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
    globalSetup: [
      'test/helpers/global-tmp.ts',
      'test/helpers/engines/pg-global.ts',
      'test/helpers/engines/s3-global.ts',
    ],
  },
});
