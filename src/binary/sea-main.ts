import { getAsset, isSea } from 'node:sea';
import { registerReadWorkerScript } from '../catalog/sqlite/read-worker-script.js';
import { embeddedNativeBinding, registerEmbeddedNativeBinding } from './embedded-native-binding.js';
import { loadNativeBinding, nativeBindingFile } from './native-binding-cache.js';

/** Name of the SEA asset holding better-sqlite3's native binding (see scripts/build-binary.mjs). */
export const NATIVE_ASSET = 'better_sqlite3.node';
/** Name of the SEA asset holding the catalog's read worker, bundled (scripts/build-binary.mjs). */
export const READ_WORKER_ASSET = 'read-worker.cjs';

// Entry of the single executable: make the embedded SQLite binding available (loaded lazily,
// when a catalog is first opened), then run the ordinary CLI entry.
// The catalog's read workers run the bundled worker script and load the same binding file.
if (isSea()) {
  registerEmbeddedNativeBinding(() =>
    loadNativeBinding({ bytes: new Uint8Array(getAsset(NATIVE_ASSET)), name: 'better_sqlite3' }),
  );
  registerReadWorkerScript(() => ({
    code: getAsset(READ_WORKER_ASSET, 'utf8'),
    nativeBindingPath: nativeBindingFile(embeddedNativeBinding()),
  }));
}
import('../main.js').catch((err: unknown) => {
  process.stderr.write(`cairn: ${(err as Error).message}\n`);
  process.exitCode = 1;
});
