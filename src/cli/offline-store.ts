import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { openTieredBlobs } from '../app.js';
import { embeddedNativeBinding } from '../binary/embedded-native-binding.js';
import { blobStoreRegistry } from '../blobs/blob-store-registry.js';
import type { BlobStore } from '../blobs/blob-store.js';
import { catalogRegistry } from '../catalog/catalog-registry.js';
import type { Catalog } from '../catalog/catalog.js';
import { recoverBlobs } from '../core/blob-leases.js';
import type { StoreParts } from '../core/store-dump.js';
import { localPathOf, localUrl, schemeOf } from '../lib/backend-registry.js';
import { DataDirLock } from '../lib/data-dir-lock.js';
import { CliError, EXIT } from './context.js';

/** Where a store lives: its data dir (seal key, admin token, lock) and its two backends. */
export interface StoreSpec {
  dataDir: string;
  catalogUrl: string;
  blobsUrl: string;
}

/**
 * The store a `--from`/`--to` value names: a data dir path (its `catalog.db` and blob dir), or
 * `CATALOG_URL[,BLOBS_URL]` whose data dir is `dataDir` (default: the directory of a `sqlite:`
 * catalog file) and whose blobs default to `file:<data dir>`, as `cairn serve` defaults them.
 * Throws a usage error for a URL without a data dir to go with it.
 */
export function storeSpec(value: string, dataDir: string | undefined, flag: string): StoreSpec {
  if (!schemeOf(value)) {
    const dir = resolve(dataDir ?? value);
    return {
      dataDir: dir,
      catalogUrl: localUrl('sqlite:', join(resolve(value), 'catalog.db')),
      blobsUrl: localUrl('file:', resolve(value)),
    };
  }
  const [catalogUrl, blobsUrl, extra] = value.split(',');
  if (extra !== undefined)
    throw new CliError(`${flag} takes CATALOG_URL[,BLOBS_URL] or a data dir`, EXIT.usage);
  catalogRegistry.check(catalogUrl);
  if (blobsUrl) blobStoreRegistry.check(blobsUrl);
  const dir =
    dataDir ??
    (schemeOf(catalogUrl) === 'sqlite:' ? dirname(localPathOf(catalogUrl, flag)) : undefined);
  if (!dir)
    throw new CliError(
      `${flag} ${catalogUrl.split('@').pop()?.slice(0, 80)}: name the data dir that holds its seal key with ${flag}-data DIR`,
      EXIT.usage,
    );
  return {
    dataDir: resolve(dir),
    catalogUrl,
    blobsUrl: blobsUrl || localUrl('file:', resolve(dir)),
  };
}

/** A store opened by a command, with no server: its parts and how to let go of them. */
export interface OfflineStore {
  parts: StoreParts;
  close(): Promise<void>;
}

/**
 * Opens the store `spec` names as `cairn serve` would (small blobs inline in a catalog that
 * keeps them), holding its data dir's lock so no server or other command works on it
 * meanwhile (ConflictError(`data_dir_locked`) otherwise). `recover` cleans what a crash left,
 * as a server's start does (for a target; a source is only read).
 */
export async function openOfflineStore(
  spec: StoreSpec,
  opts: { recover: boolean },
): Promise<OfflineStore> {
  mkdirSync(spec.dataDir, { recursive: true, mode: 0o700 });
  const nativeBinding = embeddedNativeBinding();
  const lock = DataDirLock.acquire(spec.dataDir, { nativeBinding });
  let catalog: Catalog | undefined;
  let blobs: BlobStore | undefined;
  try {
    catalog = await catalogRegistry.open(spec.catalogUrl, { durability: 'full', nativeBinding });
    blobs = await openTieredBlobs(spec.blobsUrl, catalog, { durable: true });
    if (opts.recover) await recoverBlobs(catalog, blobs);
  } catch (err) {
    await blobs?.close();
    await catalog?.close();
    lock.release();
    throw err;
  }
  const parts = { catalog, blobs, dataDir: spec.dataDir };
  return {
    parts,
    close: async () => {
      await parts.blobs.close();
      await parts.catalog.close();
      lock.release();
    },
  };
}
