import { DUMP_KINDS } from '../lib/dump-kinds.js';
import { createHash } from 'node:crypto';
import { existsSync, promises as fsp } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { BlobStore } from '../blobs/blob-store.js';
import type { Catalog } from '../catalog/catalog.js';
import type {
  DumpCatalog,
  DumpKind,
  DumpPage,
  DumpReader,
  DumpRow,
} from '../catalog/dump-catalog.js';
import { canonicalJson } from '../lib/canonical-json.js';
import { BACKUP_FILES, LOGICAL_FORMAT, type LogicalManifest } from '../lib/backup-format.js';
import { InvalidInputError } from '../lib/errors.js';
import { versionInfo } from '../version.js';

/** Rows read or written per page. */
export const DUMP_PAGE = 1000;

/**
 * One piece of a store in transit, in the order a logical backup holds them: the manifest,
 * the data dir files, every referenced blob once, the catalog's rows kind by kind, the end.
 * A consumer must read a blob's `body` to its end (or destroy it) before asking for the next.
 */
export type DumpItem =
  | { type: 'manifest'; manifest: LogicalManifest }
  | { type: 'file'; name: string; data: Buffer }
  | { type: 'blob'; sha256: string; size: number; body: Readable }
  | { type: 'rows'; kind: DumpKind; rows: DumpRow[] }
  | { type: 'end'; end: LogicalManifest };

/** A store to read from or write to: its catalog, its blob store, its data dir's files. */
export interface StoreParts {
  catalog: Catalog;
  blobs: BlobStore;
  /** Holds seal.key and admin.token. */
  dataDir: string;
}

/** The catalog's dump interface; throws InvalidInputError(`dump_unsupported`) if it has none. */
export function dumpOf(catalog: Catalog): DumpCatalog {
  if (!catalog.dump)
    throw new InvalidInputError(
      'dump_unsupported',
      'this catalog backend cannot be dumped yet, so it cannot be backed up logically or migrated',
    );
  return catalog.dump;
}

/** Running sha256 over rows' canonical JSON lines: equal dumps give equal digests. */
export class CatalogDigest {
  private readonly hash = createHash('sha256');

  add(kind: DumpKind, rows: DumpRow[]): void {
    for (const r of rows) this.hash.update(`${kind} ${canonicalJson(r)}\n`);
  }

  hex(): string {
    return this.hash.digest('hex');
  }
}

/** Every page of every kind of `reader`, in {@link DUMP_KINDS} order. */
export async function* readPages(
  reader: DumpReader,
  kinds: readonly DumpKind[] = DUMP_KINDS,
): AsyncGenerator<{ kind: DumpKind; rows: DumpRow[] }> {
  for (const kind of kinds) {
    for (let cursor: string | null = null; ;) {
      const page: DumpPage<DumpKind> = await reader.readAll(kind, cursor, DUMP_PAGE);
      if (page.rows.length > 0) yield { kind, rows: page.rows };
      if (page.cursor === null) break;
      cursor = page.cursor;
    }
  }
}

/** The manifest of `reader`'s snapshot: counts, blob bytes and the catalog digest (one pass). */
export async function describeSnapshot(
  reader: DumpReader,
  files: string[],
  now: number,
): Promise<LogicalManifest> {
  const digest = new CatalogDigest();
  let bytes = 0;
  for await (const { kind, rows } of readPages(reader)) {
    digest.add(kind, rows);
    if (kind === 'blobs') for (const r of rows) bytes += (r as { size: number }).size;
  }
  const counts = await reader.counts();
  return {
    format: LOGICAL_FORMAT,
    created_at: new Date(now).toISOString(),
    cairn_version: versionInfo().version,
    counts,
    blobs: counts.blobs,
    bytes,
    files,
    catalog_sha256: digest.hex(),
  };
}

/**
 * The store `from` as {@link DumpItem}s, from one consistent snapshot of its catalog: the
 * catalog is read twice in that snapshot (the manifest carries its digest), blobs through the
 * BlobStore. The caller keeps referenced bytes from being deleted while this runs (a server
 * holds blob deletions; an offline store has nobody deleting).
 */
export async function* readStore(from: StoreParts, now: number): AsyncGenerator<DumpItem> {
  const reader = await dumpOf(from.catalog).open();
  try {
    const files: { name: string; data: Buffer }[] = [];
    for (const name of BACKUP_FILES) {
      const path = join(from.dataDir, name);
      if (existsSync(path)) files.push({ name, data: await fsp.readFile(path) });
    }
    const manifest = await describeSnapshot(
      reader,
      files.map((f) => f.name),
      now,
    );
    yield { type: 'manifest', manifest };
    for (const f of files) yield { type: 'file', ...f };
    for await (const { rows } of readPages(reader, ['blobs'])) {
      for (const b of rows as { sha256: string; size: number }[])
        yield {
          type: 'blob',
          sha256: b.sha256,
          size: b.size,
          body: await from.blobs.get(b.sha256),
        };
    }
    for await (const page of readPages(reader)) yield { type: 'rows', ...page };
    yield { type: 'end', end: manifest };
  } finally {
    await reader.close();
  }
}
