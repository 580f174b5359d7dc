import type Database from 'better-sqlite3';
import type { Scope, TokenRecord } from '../../core/types.js';
import { NotFoundError } from '../../lib/errors.js';
import type { TokenRow } from '../catalog.js';
import { iso } from './rows.js';
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
        .run(t.id, t.name, t.hash, t.scope, t.sessions, Date.parse(t.created_at)),
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

  async list(): Promise<TokenRecord[]> {
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

function toToken(r: TokenDbRow): TokenRecord {
  return {
    id: r.id,
    name: r.name,
    scope: r.scope,
    sessions: r.sessions,
    created_at: iso(r.created_at),
    last_used_at: r.last_used_at === null ? null : iso(r.last_used_at),
  };
}
