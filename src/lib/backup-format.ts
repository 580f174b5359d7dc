/** What the last entry of a backup tar (`backup.json`) says, so a reader can tell it is complete. */
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
 * Names a backup tar may contain; writers emit only these and readers refuse anything else.
 * For a blob, groups 2 and 3 are its directories and group 4 its sha256 (which they prefix).
 */
export const BACKUP_ENTRY_RE =
  /^(catalog\.db|seal\.key|admin\.token|backup\.json|blobs\/([0-9a-f]{2})\/([0-9a-f]{2})\/(\2\3[0-9a-f]{60}))$/;
