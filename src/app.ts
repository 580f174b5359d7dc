import { generateKeyPairSync, createPrivateKey } from 'node:crypto';
import * as fs from 'node:fs';
import { join } from 'node:path';
import type { BlobStore } from './blobs/blob-store.js';
import { FsBlobStore } from './blobs/fs/fs-blob-store.js';
import { TieredBlobStore } from './blobs/tiered/tiered-blob-store.js';
import type { Catalog } from './catalog/catalog.js';
import { SqliteCatalog } from './catalog/sqlite/sqlite-catalog.js';
import { makeConfig, type Config } from './config.js';
import { ArtifactService } from './core/artifact-service.js';
import { ArtifactaService } from './core/artifacta-service.js';
import { EventBus } from './core/events.js';
import { Metrics } from './core/metrics.js';
import { Idempotency } from './core/idempotency.js';
import { SessionService } from './core/session-service.js';
import { Signer } from './core/signer.js';
import { TokenService } from './core/token-service.js';
import { RetentionService } from './core/retention-service.js';
import { ShareService } from './core/share-service.js';
import { Sweeper } from './core/sweeper.js';
import { embeddedNativeBinding } from './binary/embedded-native-binding.js';

/** Blobs up to this size (bytes) are kept inline in the catalog database. */
export const INLINE_BLOB_MAX = 64 * 1024;

/** Everything a running Cairn is made of; built by {@link createApp}. */
export interface App {
  config: Config;
  catalog: Catalog;
  blobs: BlobStore;
  events: EventBus;
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
  /** Background expiry sweeper; started by startServer, stopped by close(). */
  sweeper: Sweeper;
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
 * The one wiring point: opens the data dir (creating it), recovers leftovers of a previous
 * run, builds the core services over the SQLite catalog and filesystem blob store, and on
 * first start creates the admin token file and the seal key.
 */
export async function createApp(
  partial: Partial<Config> = {},
  opts: AppOptions = {},
): Promise<App> {
  const config = makeConfig(partial);
  fs.mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const clock = opts.clock ?? Date.now;
  const files = new FsBlobStore({ root: config.dataDir, durable: config.durability === 'full' });
  const catalog = SqliteCatalog.open({
    dir: config.dataDir,
    durability: config.durability,
    // Inside the single binary: the embedded better-sqlite3 build (see src/binary/).
    nativeBinding: opts.nativeBinding ?? embeddedNativeBinding(),
  });
  // Small blobs are rows in the catalog's group commit (no file create/fsync/rename per push:
  // issue 9 measured that as the small-push bottleneck); larger ones stream to files.
  const blobs = new TieredBlobStore({
    small: catalog.inlineBlobs,
    large: files,
    inlineMax: INLINE_BLOB_MAX,
  });
  // Removes upload leftovers and blobs a crash left committed without their catalog row.
  await blobs.recover({ isReferenced: async (sha) => (await catalog.blobRefs(sha)) > 0 });
  const events = new EventBus();
  const metrics = new Metrics();
  metrics.follow(events);
  const signer = new Signer(loadSealKey(config.dataDir));
  const tokens = new TokenService({ catalog, clock });
  const artifacts: ArtifactService = new ArtifactService({
    catalog,
    blobs,
    events,
    clock,
    maxSize: config.maxSize,
    defaultTtlMs: config.defaultTtlMs,
    // Deferred: the retention service is built next, over this artifact service.
    afterPush: (rec): Promise<void> => retention.afterPush(rec),
  });
  const retention: RetentionService = new RetentionService({
    catalog,
    artifacts,
    events,
    clock,
    keepVersions: config.keepVersions,
    batchSize: config.sweepBatch,
  });
  const sweeper = new Sweeper({
    retention,
    intervalMs: config.sweepIntervalMs,
    onError: (err) =>
      process.stderr.write(
        `${JSON.stringify({ level: 'error', msg: 'sweep failed', error: (err as Error)?.message })}\n`,
      ),
  });
  const app: App = {
    config,
    catalog,
    blobs,
    events,
    metrics,
    signer,
    clock,
    tokens,
    artifacts,
    artifacta: new ArtifactaService({ catalog, artifacts, clock }),
    retention,
    sweeper,
    shares: new ShareService({ catalog, clock, maxTtlMs: config.maxShareTtlMs }),
    sessions: new SessionService({ catalog, signer, events, clock }),
    idempotency: new Idempotency({ catalog, clock }),
    createdAdminToken: null,
    close: once(async () => {
      await sweeper.stop();
      await catalog.close();
      await blobs.close();
    }),
  };
  app.createdAdminToken = await ensureAdminToken(app);
  return app;
}

/** Creates `<data>/admin.token` (0600) with a new admin token unless an admin token exists. */
async function ensureAdminToken(app: App): Promise<string | null> {
  if ((await app.catalog.countTokens('admin')) > 0) return null;
  const created = await app.tokens.create({
    scope: 'admin',
    name: 'admin (created at first start)',
  });
  const path = join(app.config.dataDir, 'admin.token');
  writeSecretFile(path, `${created.token}\n`);
  return path;
}

/** Loads `<data>/seal.key` (Ed25519, PKCS#8 PEM), creating it on first start. */
function loadSealKey(dataDir: string) {
  const path = join(dataDir, 'seal.key');
  if (!fs.existsSync(path)) {
    const { privateKey } = generateKeyPairSync('ed25519');
    writeSecretFile(path, privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
  }
  return createPrivateKey(fs.readFileSync(path));
}

/** Writes a file readable only by its owner, atomically (temp file, fsync, rename). */
function writeSecretFile(path: string, content: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = fs.openSync(tmp, 'w', 0o600);
  try {
    fs.writeSync(fd, content);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, path);
}

function once(fn: () => Promise<void>): () => Promise<void> {
  let p: Promise<void> | undefined;
  return () => (p ??= fn());
}
