import type { Scope } from '../../core/types.js';
import type { StoredToken } from '../stored-rows.js';
import { NotFoundError } from '../../lib/errors.js';
import type { TokenRow } from '../catalog.js';
import type { PgDb } from './pg-db.js';
import { fromPgText, pgText } from './pg-glob.js';

interface TokenDbRow {
  id: string;
  name: string;
  hash: string;
  scope: Scope;
  sessions: string | null;
  created_at: number;
  last_used_at: number | null;
}

function toToken(r: TokenDbRow): StoredToken {
  return {
    id: r.id,
    // A name may hold U+0000 (SQLite stores it): escaped here as metadata values are.
    name: fromPgText(r.name),
    scope: r.scope,
    sessions: r.sessions,
    createdAt: r.created_at,
    lastUsedAt: r.last_used_at,
  };
}

/** API tokens (stored by hash): the SQL behind PgCatalog's token methods. */
export class PgTokenRows {
  constructor(private readonly db: PgDb) {}

  async add(t: TokenRow): Promise<void> {
    await this.db.run(
      'INSERT INTO tokens (id, name, hash, scope, sessions, created_at, last_used_at) VALUES ($1, $2, $3, $4, $5, $6, NULL)',
      [t.id, pgText(t.name), t.hash, t.scope, t.sessions, t.createdAt],
    );
  }

  async find(hash: string, now: number): Promise<TokenRow | null> {
    const row = await this.db.get<TokenDbRow>('SELECT * FROM tokens WHERE hash = $1', [hash]);
    if (!row) return null;
    if (row.last_used_at === null || now - row.last_used_at > 60_000) {
      // Best effort: last use is informational, so it never delays the request.
      void this.db
        .run('UPDATE tokens SET last_used_at = $1 WHERE id = $2', [now, row.id])
        .catch(() => undefined);
    }
    return { ...toToken(row), hash: row.hash };
  }

  async list(): Promise<StoredToken[]> {
    return (await this.db.all<TokenDbRow>('SELECT * FROM tokens ORDER BY created_at')).map(toToken);
  }

  async delete(id: string): Promise<void> {
    if ((await this.db.run('DELETE FROM tokens WHERE id = $1', [id])) === 0)
      throw new NotFoundError(`token '${id}' not found`);
  }

  async count(scope?: Scope): Promise<number> {
    const row = scope
      ? await this.db.get<{ n: number }>('SELECT count(*) AS n FROM tokens WHERE scope = $1', [
          scope,
        ])
      : await this.db.get<{ n: number }>('SELECT count(*) AS n FROM tokens');
    return row?.n ?? 0;
  }
}
