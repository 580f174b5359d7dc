import { getAsset, isSea } from 'node:sea';
import { registerEmbeddedNativeBinding } from './embedded-native-binding.js';
import { loadNativeBinding } from './native-binding-cache.js';

/** Name of the SEA asset holding better-sqlite3's native binding (see scripts/build-binary.mjs). */
export const NATIVE_ASSET = 'better_sqlite3.node';

// Entry of the single executable: make the embedded SQLite binding available (loaded lazily,
// when a catalog is first opened), then run the ordinary CLI entry.
if (isSea())
  registerEmbeddedNativeBinding(() =>
    loadNativeBinding({ bytes: new Uint8Array(getAsset(NATIVE_ASSET)), name: 'better_sqlite3' }),
  );
import('../main.js').catch((err: unknown) => {
  process.stderr.write(`cairn: ${(err as Error).message}\n`);
  process.exitCode = 1;
});
