import type { SecretCatalog } from '../secret-catalog.js';
import type { PgDb } from './pg-db.js';

/**
 * {@link SecretCatalog} in the `secrets` table. A claim is an insert that yields to an existing
 * row and a read of the row in one transaction: of racing claims from any number of nodes, one
 * inserts; the others wait on its key and then (rerun on the serialization failure SERIALIZABLE
 * gives them) read its value.
 */
export class PgSecrets implements SecretCatalog {
  constructor(private readonly db: PgDb) {}

  async get(name: string): Promise<string | null> {
    const row = await this.db.get<{ value: string }>('SELECT value FROM secrets WHERE name = $1', [
      name,
    ]);
    return row?.value ?? null;
  }

  async claimOnce(name: string, valueIfAbsent: string): Promise<string> {
    return this.db.tx(async (t) => {
      await t.run(
        'INSERT INTO secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING',
        [name, valueIfAbsent],
      );
      const row = await t.get<{ value: string }>('SELECT value FROM secrets WHERE name = $1', [
        name,
      ]);
      if (!row) throw new Error(`secret '${name}' vanished inside its claim`);
      return row.value;
    });
  }
}
