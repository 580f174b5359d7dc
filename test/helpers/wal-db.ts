import { rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { tempDir } from './server.js';

/**
 * A real SQLite database in WAL mode with `synchronous = NORMAL` (as the catalog runs it), in a
 * fresh temp dir, created with `schema`. `remove()` closes it and deletes the dir.
 */
export function walDatabase(schema: string): {
  db: Database.Database;
  file: string;
  remove: () => void;
} {
  const dir = tempDir();
  const file = join(dir, 'catalog.db');
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec(schema);
  return {
    db,
    file,
    remove: () => {
      if (db.open) db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
