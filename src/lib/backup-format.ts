import type { DumpKind } from '../catalog/dump-catalog.js';

/** What the last entry of a SQLite-file backup tar (`backup.json`) says (format 1). */
export interface BackupSummary {
  format: 'cairn-backup-1';
  created_at: string;
  /** Blobs in the backup and their bytes. */
  blobs: number;
  bytes: number;
  /** The other files it holds (catalog.db, seal.key, admin.token). */
  files: string[];
}

/**
 * Names a format-1 backup tar may contain; writers emit only these and readers refuse anything
 * else. For a blob, groups 2 and 3 are its directories and group 4 its sha256 (which they prefix).
 */
export const BACKUP_ENTRY_RE =
  /^(catalog\.db|seal\.key|admin\.token|backup\.json|blobs\/([0-9a-f]{2})\/([0-9a-f]{2})\/(\2\3[0-9a-f]{60}))$/;

/** The logical, backend-neutral backup format (see README "Backup and restore"). */
export const LOGICAL_FORMAT = 'cairn-backup-2';

/**
 * The first entry of a logical backup (`manifest.json`): what follows, so a reader can refuse
 * a non-empty target, check what arrives, and compare a target with the backup without
 * reading on. The last entry (`end.json`) repeats it: a stream without it is incomplete.
 */
export interface LogicalManifest {
  format: typeof LOGICAL_FORMAT;
  created_at: string;
  /** The Cairn that wrote it. */
  cairn_version: string;
  /** Rows of each catalog kind. */
  counts: Record<DumpKind, number>;
  /** Blob entries (each referenced digest once) and their bytes. */
  blobs: number;
  bytes: number;
  /** The data dir files it holds: `seal.key`, and `admin.token` if the source had one. */
  files: string[];
  /** sha256 over every row's canonical JSON, kind by kind in order (see catalogDigest). */
  catalog_sha256: string;
}

/** Data dir files a logical backup may carry. */
export const BACKUP_FILES = ['seal.key', 'admin.token'] as const;

/**
 * Entry names of a logical backup: `manifest.json`, the data dir files, `blobs/<sha256>`,
 * `catalog/<kind>/<page>.jsonl` (a page of rows, zero-padded page number) and `end.json`.
 */
export const LOGICAL_ENTRY_RE =
  /^(?:manifest\.json|end\.json|seal\.key|admin\.token|blobs\/([0-9a-f]{64})|catalog\/([a-z_]+)\/(\d{6,})\.jsonl)$/;
