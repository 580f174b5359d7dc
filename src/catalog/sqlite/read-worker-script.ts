import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** How to start a read worker: a script file, or its code (evaluated as CommonJS). */
export interface ReadWorkerScript {
  file?: URL;
  code?: string;
  /** better-sqlite3's native binding as a file, when it is not where better-sqlite3 looks. */
  nativeBindingPath?: string;
}

let registered: (() => ReadWorkerScript) | undefined;
let fromSources: ReadWorkerScript | undefined;

/**
 * Registers where the read worker comes from; called once by the single binary's entry, which
 * carries the worker bundled as an asset and the native binding in its cache dir.
 */
export function registerReadWorkerScript(provide: () => ReadWorkerScript): void {
  registered = provide;
}

/**
 * The read worker's script: what the binary registered; else `read-worker.js` next to this
 * module (the built package); else, running from the TypeScript sources (the tests), the
 * worker bundled with esbuild (a dev dependency) on first use.
 */
export function readWorkerScript(): ReadWorkerScript {
  if (registered) return registered();
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return { file: new URL('./read-worker.js', here) };
  fromSources ??= bundleSources(here);
  return fromSources;
}

function bundleSources(here: string): ReadWorkerScript {
  const require = createRequire(here);
  const esbuild = require('esbuild') as typeof import('esbuild');
  const out = esbuild.buildSync({
    entryPoints: [fileURLToPath(new URL('./read-worker.ts', here))],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    write: false,
    logLevel: 'silent',
  });
  return {
    code: out.outputFiles[0].text,
    nativeBindingPath: require.resolve('better-sqlite3/build/Release/better_sqlite3.node'),
  };
}
