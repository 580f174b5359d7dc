import type Database from 'better-sqlite3';
import type { SecretCatalog } from '../secret-catalog.js';
import type { WriteBatcher } from './write-batcher.js';

/**
 * {@link SecretCatalog} in the `secrets` table. A claim is an insert that yields to an existing
 * row and a read of the row, in one write transaction (SQLite's single writer makes the read
 * see whichever claim committed first, from this process or another over the same file).
 */
export class SqliteSecrets implements SecretCatalog {
  private readonly s;

  constructor(
    db: Database.Database,
    private readonly batch: WriteBatcher,
  ) {
    this.s = {
      get: db.prepare<[string], { value: string }>('SELECT value FROM secrets WHERE name = ?'),
      insert: db.prepare(
        'INSERT INTO secrets (name, value) VALUES (?, ?) ON CONFLICT(name) DO NOTHING',
      ),
    };
  }

  async get(name: string): Promise<string | null> {
    return this.s.get.get(name)?.value ?? null;
  }

  async claimOnce(name: string, valueIfAbsent: string): Promise<string> {
    return this.batch.run(() => {
      this.s.insert.run(name, valueIfAbsent);
      const row = this.s.get.get(name);
      if (!row) throw new Error(`secret '${name}' vanished inside its claim`);
      return row.value;
    });
  }
}
