import type Database from 'better-sqlite3';
import type { Scope } from '../../core/types.js';
import type { StoredToken } from '../stored-rows.js';
import { NotFoundError } from '../../lib/errors.js';
import type { TokenRow } from '../catalog.js';
import type { WriteBatcher } from './write-batcher.js';

/**
 * API tokens (stored by hash): the SQL behind the Catalog's token methods. Writes go through
 * the catalog's group commit.
 */
export class SqliteTokenRows {
  constructor(
    private readonly db: Database.Database,
    private readonly batch: WriteBatcher,
  ) {}

  async add(t: TokenRow): Promise<void> {
    await this.batch.run(() =>
      this.db
        .prepare(
          'INSERT INTO tokens (id, name, hash, scope, sessions, created_at, last_used_at) VALUES (?, ?, ?, ?, ?, ?, NULL)',
        )
        .run(t.id, t.name, t.hash, t.scope, t.sessions, t.createdAt),
    );
  }

  async find(hash: string, now: number): Promise<TokenRow | null> {
    const row = this.db
      .prepare<[string], TokenDbRow>('SELECT * FROM tokens WHERE hash = ?')
      .get(hash);
    if (!row) return null;
    if (row.last_used_at === null || now - row.last_used_at > 60_000) {
      // Best effort and batched: last use is informational, so it never delays the request.
      void this.batch
        .run(() =>
          this.db.prepare('UPDATE tokens SET last_used_at = ? WHERE id = ?').run(now, row.id),
        )
        .catch(() => undefined);
    }
    return { ...toToken(row), hash: row.hash };
  }

  async list(): Promise<StoredToken[]> {
    return this.db
      .prepare<[], TokenDbRow>('SELECT * FROM tokens ORDER BY created_at')
      .all()
      .map(toToken);
  }

  async delete(id: string): Promise<void> {
    const changes = await this.batch.run(
      () => this.db.prepare('DELETE FROM tokens WHERE id = ?').run(id).changes,
    );
    if (changes === 0) throw new NotFoundError(`token '${id}' not found`);
  }

  async count(scope?: Scope): Promise<number> {
    const row = scope
      ? this.db
          .prepare<[string], { n: number }>('SELECT count(*) AS n FROM tokens WHERE scope = ?')
          .get(scope)
      : this.db.prepare<[], { n: number }>('SELECT count(*) AS n FROM tokens').get();
    return row?.n ?? 0;
  }
}

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
    name: r.name,
    scope: r.scope,
    sessions: r.sessions,
    createdAt: r.created_at,
    lastUsedAt: r.last_used_at,
  };
}
