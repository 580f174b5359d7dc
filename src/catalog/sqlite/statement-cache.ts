import type Database from 'better-sqlite3';

/**
 * Makes `db.prepare` reuse compiled statements, keyed by SQL text, keeping the `max` most
 * recently used. Preparing costs tens of microseconds per call, and the catalog (and its
 * retention, share, audit and import parts) prepares on every call; caching at the connection
 * covers all of them without touching each call site. A cached statement still being iterated
 * (`busy`) is never handed out twice: such a caller gets a fresh one. Statements are shared, so
 * callers must not switch them into `pluck`/`raw`/`expand` modes (none does).
 */
export function cacheStatements(db: Database.Database, max = 512): void {
  const prepare = db.prepare.bind(db);
  uncached.set(db, prepare);
  const cache = new Map<string, Database.Statement>();
  const cached = (sql: string): Database.Statement => {
    const hit = cache.get(sql);
    if (hit && !hit.busy) {
      // Re-insert: a Map iterates in insertion order, so the first key is the least recent.
      cache.delete(sql);
      cache.set(sql, hit);
      return hit;
    }
    const stmt = prepare(sql);
    if (!hit) {
      cache.set(sql, stmt);
      if (cache.size > max) cache.delete(cache.keys().next().value as string);
    }
    return stmt;
  };
  (db as unknown as { prepare: (sql: string) => Database.Statement }).prepare = cached;
}

const uncached = new WeakMap<Database.Database, (sql: string) => Database.Statement>();

/**
 * A statement of its own, outside the cache: for a caller that switches it into `pluck`/`raw`
 * mode, which a shared statement must never be.
 */
export function prepareOwn<P extends unknown[] = unknown[], R = unknown>(
  db: Database.Database,
  sql: string,
): Database.Statement<P, R> {
  const prepare = uncached.get(db) ?? db.prepare.bind(db);
  return prepare(sql) as unknown as Database.Statement<P, R>;
}
