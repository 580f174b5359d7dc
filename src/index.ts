/** Public package exports: the TypeScript client and the server wiring for embedding. */
export { CairnClient, CairnApiError, artifactPath, hashFile } from './client/cairn-client.js';
export type { ClientOptions, PushOptions, ArtifactQueryParams } from './client/cairn-client.js';
export type { ArtifactRecord, SessionRecord, TokenRecord, Page } from './core/types.js';
export { createApp, type App } from './app.js';
export { startServer, type RunningServer } from './server/http-server.js';
export { catalogRegistry, type CatalogOpenOptions } from './catalog/catalog-registry.js';
export { blobStoreRegistry, type BlobStoreOpenOptions } from './blobs/blob-store-registry.js';
export type { Catalog, CatalogCapabilities } from './catalog/catalog.js';
export type { BlobStore } from './blobs/blob-store.js';
export type { Coordinator } from './core/coordinator.js';
