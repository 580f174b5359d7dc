import * as fs from 'node:fs';
import { join } from 'node:path';
import type { BlobStore } from './blobs/blob-store.js';
import { blobStoreRegistry, type BlobStoreOpenOptions } from './blobs/blob-store-registry.js';
import { TieredBlobStore } from './blobs/tiered/tiered-blob-store.js';
import type { Catalog } from './catalog/catalog.js';
import { catalogRegistry } from './catalog/catalog-registry.js';
import { makeConfig, type Config } from './config.js';
import { LocalCoordinator, type Coordinator } from './core/coordinator.js';
import { DataDirLock } from './lib/data-dir-lock.js';
import { PARTIAL_MARKER } from './core/store-restore.js';
import { ConflictError } from './lib/errors.js';
import { ArtifactService } from './core/artifact-service.js';
import { BackupService } from './core/backup-service.js';
import { ExportService } from './core/export-service.js';
import { FsckService } from './core/fsck-service.js';
import { ImportService } from './core/import-service.js';
import { StatusService } from './core/status-service.js';
import { ArtifactaService } from './core/artifacta-service.js';
import { EventBus } from './core/events.js';
import { Metrics } from './core/metrics.js';
import { Idempotency } from './core/idempotency.js';
import { SessionService } from './core/session-service.js';
import { Signer } from './core/signer.js';
import { recoverBlobs } from './core/blob-leases.js';
import { ensureAdminToken, loadSealKey } from './core/node-secrets.js';
import { TokenService } from './core/token-service.js';
import { RetentionService } from './core/retention-service.js';
import { ShareService } from './core/share-service.js';
import { Sweeper } from './core/sweeper.js';
import { MemoryBudget } from './lib/memory-budget.js';
import { embeddedNativeBinding } from './binary/embedded-native-binding.js';

/** Blobs up to this size (bytes) are kept inline in the catalog database. */
export const INLINE_BLOB_MAX = 64 * 1024;

/** Everything a running Cairn is made of; built by {@link createApp}. */
export interface App {
  config: Config;
  catalog: Catalog;
  blobs: BlobStore;
  events: EventBus;
  /** Memory uploads and imports in flight may hold (config.maxUploadMemory). */
  uploadMemory: MemoryBudget;
  /** Counters, gauges and histograms served at GET /metrics. */
  metrics: Metrics;
  signer: Signer;
  artifacts: ArtifactService;
  /** Artifacta's ids and what only its compatible API has (see --artifacta-listen). */
  artifacta: ArtifactaService;
  sessions: SessionService;
  tokens: TokenService;
  idempotency: Idempotency;
  /** Expiry sweeps, GC, keep-last-N, session deletion. */
  retention: RetentionService;
  /** Share links. */
  shares: ShareService;
  /** Session exports (document and tar). */
  exports: ExportService;
  /** Session imports from export tars. */
  imports: ImportService;
  /** Online backups. */
  backups: BackupService;
  /** Consistency check and repair. */
  fsck: FsckService;
  /** Health and catalog sizes. */
  status: StatusService;
  /** Background expiry sweeper; started by startServer, stopped by close(). */
  sweeper: Sweeper;
  /** Leadership among nodes sharing the store (the sweeper runs on the leader only). */
  coordinator: Coordinator;
  clock: () => number;
  /** Path of the admin token file if this start created it, else null. */
  createdAdminToken: string | null;
  /** Flushes and closes the catalog. Idempotent. */
  close(): Promise<void>;
}

/** Options beyond the config (tests inject a clock; the binary a native binding). */
export interface AppOptions {
  clock?: () => number;
  nativeBinding?: unknown;
}

/**
 * The one wiring point: opens the data dir (creating it) and locks it against a second server
 * (throws ConflictError(`data_dir_locked`)), opens the catalog and blob store the config's URLs
 * name (see catalogRegistry, blobStoreRegistry; throws InvalidInputError for an unknown
 * scheme), recovers what dead processes left in the blob store, builds the core services, and
 * takes the seal key and the bootstrap admin token from the catalog (the first node to start on
 * it creates them; see node-secrets.ts), mirrored to `seal.key` and `admin.token` in the data
 * dir. Throws ConflictError(`seal_key_mismatch`) when this data dir's seal key is not the
 * catalog's.
 */
export async function createApp(
  partial: Partial<Config> = {},
  opts: AppOptions = {},
): Promise<App> {
  const config = makeConfig(partial);
  // Before the data dir is touched: an unknown scheme is a start-up error, not a half start.
  catalogRegistry.check(config.catalogUrl);
  blobStoreRegistry.check(config.blobsUrl);
  fs.mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  // Inside the single binary: the embedded better-sqlite3 build (see src/binary/).
  const nativeBinding = opts.nativeBinding ?? embeddedNativeBinding();
  const lock = DataDirLock.acquire(config.dataDir, { nativeBinding });
  try {
    refuseHalfRestored(config.dataDir);
    return await build(config, lock, { ...opts, nativeBinding });
  } catch (err) {
    lock.release();
    throw err;
  }
}

async function build(config: Config, lock: DataDirLock, opts: AppOptions): Promise<App> {
  const clock = opts.clock ?? Date.now;
  const metrics = new Metrics();
  const uploadMemory = new MemoryBudget(config.maxUploadMemory);
  const catalog = await catalogRegistry.open(config.catalogUrl, {
    durability: config.durability,
    nativeBinding: opts.nativeBinding,
    queryTimeoutMs: config.queryTimeoutMs,
  });
  const blobs = await openBlobs(
    config,
    catalog,
    {
      memory: uploadMemory,
      onMemoryCollected: () =>
        metrics.inc(
          'cairn_upload_memory_collections_total',
          'Collections run to give back the buffers of uploads that ended',
        ),
    },
    opts.nativeBinding,
  ).catch(async (err: unknown) => {
    await catalog.close();
    throw err;
  });
  const events = await EventBus.open(catalog.events).catch(async (err: unknown) => {
    await blobs.close();
    await catalog.close();
    throw err;
  });
  metrics.follow(events);
  // The first start of this data dir (no seal key mirrored yet) also mirrors the admin token.
  const firstStart = !fs.existsSync(join(config.dataDir, 'seal.key'));
  const signer = new Signer(
    await loadSealKey(catalog, config.dataDir).catch(async (err: unknown) => {
      await blobs.close();
      await catalog.close();
      throw err;
    }),
  );
  const tokens = new TokenService({ catalog, clock });
  const artifacts: ArtifactService = new ArtifactService({
    catalog,
    blobs,
    clock,
    maxSize: config.maxSize,
    defaultTtlMs: config.defaultTtlMs,
    // Deferred: the retention service is built next, over this artifact service.
    afterPush: (rec): Promise<void> => retention.afterPush(rec),
  });
  const retention: RetentionService = new RetentionService({
    catalog,
    artifacts,
    blobs,
    clock,
    keepVersions: config.keepVersions,
    batchSize: config.sweepBatch,
  });
  const coordinator = catalog.capabilities.coordinator ?? new LocalCoordinator();
  const sweeper = new Sweeper({
    retention,
    coordinator,
    intervalMs: config.sweepIntervalMs,
    blobs,
    clock,
    onError: (err) =>
      process.stderr.write(
        `${JSON.stringify({ level: 'error', msg: 'sweep failed', error: (err as Error)?.message })}\n`,
      ),
  });
  const sessions = new SessionService({ catalog, signer, events, clock });
  const app: App = {
    config,
    catalog,
    blobs,
    events,
    metrics,
    uploadMemory,
    signer,
    clock,
    tokens,
    artifacts,
    artifacta: new ArtifactaService({ catalog, artifacts, clock }),
    retention,
    sweeper,
    coordinator,
    shares: new ShareService({ catalog, clock, maxTtlMs: config.maxShareTtlMs }),
    sessions,
    exports: new ExportService({ catalog, blobs, sessions, signer, clock }),
    imports: new ImportService({
      catalog,
      blobs,
      signer,
      clock,
      maxSize: config.maxSize,
    }),
    backups: new BackupService({ catalog, blobs, artifacts, dataDir: config.dataDir, clock }),
    fsck: new FsckService({ catalog, blobs, artifacts }),
    status: new StatusService({ catalog, blobs }),
    idempotency: new Idempotency({ catalog, clock }),
    createdAdminToken: null,
    close: once(async () => {
      await sweeper.stop();
      events.close();
      await coordinator.close();
      await catalog.close();
      await blobs.close();
      lock.release();
    }),
  };
  app.createdAdminToken = await ensureAdminToken({
    catalog,
    tokens,
    dataDir: config.dataDir,
    firstStart,
  }).catch(async (err: unknown) => {
    await app.close();
    throw err;
  });
  return app;
}

/**
 * The blob store the config names; when the catalog keeps small blobs itself, blobs up to
 * {@link INLINE_BLOB_MAX} go there (rows in the catalog's group commit, no file create, fsync
 * and rename per push: issue 9 measured that as the small-push bottleneck) and larger ones to
 * the store. Recovers leftovers of a previous run: upload leftovers and blobs a crash left
 * committed without their catalog row.
 */
async function openBlobs(
  config: Config,
  catalog: Catalog,
  budget: Pick<BlobStoreOpenOptions, 'memory' | 'onMemoryCollected'>,
  nativeBinding: unknown,
): Promise<BlobStore> {
  const blobs = await openTieredBlobs(config.blobsUrl, catalog, {
    durable: config.durability === 'full',
    nativeBinding,
    ...budget,
  });
  await recoverBlobs(catalog, blobs).catch(async (err: unknown) => {
    await blobs.close();
    throw err;
  });
  return blobs;
}

/**
 * The blob store `url` names, behind `catalog`'s inline tier for blobs up to
 * {@link INLINE_BLOB_MAX} when the catalog keeps small blobs itself: the store a server reads
 * and writes (also what `cairn restore` and `cairn migrate` open, so bytes land where a server
 * looks for them).
 */
export async function openTieredBlobs(
  url: string,
  catalog: Catalog,
  opts: BlobStoreOpenOptions,
): Promise<BlobStore> {
  const large = await blobStoreRegistry.open(url, opts);
  const small = catalog.capabilities.inlineBlobs;
  return small ? new TieredBlobStore({ small, large, inlineMax: INLINE_BLOB_MAX }) : large;
}

/** Throws ConflictError(`restore_incomplete`) if a restore or migrate into `dataDir` stopped midway. */
function refuseHalfRestored(dataDir: string): void {
  if (!fs.existsSync(join(dataDir, PARTIAL_MARKER))) return;
  throw new ConflictError(
    'restore_incomplete',
    `a cairn restore or migrate into ${dataDir} stopped midway (${PARTIAL_MARKER} is there); run the same command again to finish it, or start from an empty directory`,
  );
}

function once(fn: () => Promise<void>): () => Promise<void> {
  let p: Promise<void> | undefined;
  return () => (p ??= fn());
}
