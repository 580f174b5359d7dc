import { createRequire } from 'node:module';
import type yargsFactory from 'yargs';

/**
 * yargs, loaded from its CommonJS build: that build lays out `--help` with wrap-ansi, which
 * wraps at word boundaries, where the ES module build's cliui breaks lines every N characters,
 * in the middle of words. Inside the single binary (a CommonJS bundle) `require` exists and
 * esbuild bundles that build; under Node's ES modules `createRequire` loads it.
 */
export const yargs = (
  typeof require === 'function'
    ? // eslint-disable-next-line @typescript-eslint/no-require-imports -- the CommonJS build, on purpose (above)
      require('yargs')
    : createRequire(import.meta.url)('yargs')
) as typeof yargsFactory;
