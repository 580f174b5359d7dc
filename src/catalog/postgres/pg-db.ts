import pg from 'pg';
import { CatalogUnavailableError } from '../../lib/errors.js';
import { isConnectionLoss, mapPgError } from './pg-errors.js';

/** Named parameters (`@name` in the SQL text) or positional ones (`$1`). */
export type Params = Record<string, unknown> | unknown[];

/** What statements run on: the pool (one statement, autocommit) or one transaction's client. */
export interface Queryable {
  /** Every row. */
  all<R>(sql: string, params?: Params): Promise<R[]>;
  /** The first row, or undefined. */
  get<R>(sql: string, params?: Params): Promise<R | undefined>;
  /** Runs a statement; returns how many rows it changed. */
  run(sql: string, params?: Params): Promise<number>;
}

// BIGINT (epoch ms, sizes, seqs) and the NUMERIC a sum() of them gives come back as numbers:
// every value the catalog stores fits in 2^53.
const INT8 = 20;
const NUMERIC = 1700;
const toNumber = (v: string): number => Number(v);
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary'): unknown =>
    oid === INT8 || oid === NUMERIC
      ? toNumber
      : (pg.types.getTypeParser as (o: number, f?: string) => unknown)(
          oid,
          format,
        )) as typeof pg.types.getTypeParser,
};

const compiled = new Map<string, { text: string; names: string[] }>();

/** `@name` parameters to `$n` (cached per SQL text); every name must be given. */
function bind(sql: string, params: Params | undefined): { text: string; values: unknown[] } {
  if (params === undefined || Array.isArray(params)) return { text: sql, values: params ?? [] };
  let c = compiled.get(sql);
  if (!c) {
    const names: string[] = [];
    const text = sql.replace(/@([A-Za-z_][A-Za-z0-9_]*)/g, (_, name: string) => {
      let i = names.indexOf(name);
      if (i < 0) i = names.push(name) - 1;
      return `$${i + 1}`;
    });
    c = { text, names };
    if (compiled.size < 5000) compiled.set(sql, c);
  }
  const values = c.names.map((n) => {
    if (!(n in params)) throw new Error(`SQL parameter @${n} not given`);
    return params[n];
  });
  return { text: c.text, values };
}

/** Transaction failures that a rerun of the whole transaction resolves. */
const RETRY = new Set(['40001', '40P01', '23505']);
/** At READ COMMITTED only a deadlock is a rerun's to resolve: a unique violation is a bug. */
const RC_RETRY = new Set(['40001', '40P01']);
const MAX_ATTEMPTS = 40;

const names = new Map<string, string>();

/**
 * Marks `sql` as a statement each connection parses and plans once (a named prepared
 * statement) instead of at every call; returns it unchanged. For the fixed statements of the
 * hot write path only: each connection keeps every one it has run.
 */
export function prepared(sql: string): string {
  if (!names.has(sql)) names.set(sql, `cairn_${names.size + 1}`);
  return sql;
}

/** What node-pg runs for `sql`: by name if {@link prepared}. */
function query(sql: string, params: Params | undefined): pg.QueryConfig {
  const b = bind(sql, params);
  return { name: names.get(sql), text: b.text, values: b.values };
}

/** Statements on one pool or client, with `@name` parameters bound (see {@link Queryable}). */
export function wrap(c: pg.Pool | pg.PoolClient): Queryable {
  return {
    async all<R>(sql: string, params?: Params) {
      return (await c.query(query(sql, params))).rows as R[];
    },
    async get<R>(sql: string, params?: Params) {
      return (await c.query(query(sql, params))).rows[0] as R | undefined;
    },
    async run(sql: string, params?: Params) {
      return (await c.query(query(sql, params))).rowCount ?? 0;
    },
  };
}

/**
 * The PostgreSQL connection pool of one catalog. Writes run in {@link tx}: SERIALIZABLE
 * transactions rerun whole on a serialization failure or deadlock, so every transaction body
 * reads as if it were the only writer (what the SQLite code it mirrors relies on). Errors come
 * out mapped (see mapPgError): a lost or unreachable server is CatalogUnavailableError (503
 * with Retry-After); the pool opens fresh connections by itself once the server is back.
 */
export class PgDb implements Queryable {
  private readonly direct: Queryable;

  constructor(readonly pool: pg.Pool) {
    this.direct = wrap(pool);
    // An idle client whose server went away: the pool drops it; the next query reconnects.
    pool.on('error', () => undefined);
    // A checked-out client between two statements (inside tx, read, a migration) has no pool
    // listener: PostgreSQL's "terminating connection" (a fast or immediate shutdown, a backend
    // killed) arriving then was an unhandled 'error' event that ended the process. Ignored
    // here; the client's next statement fails as a connection loss (503) and is discarded.
    pool.on('connect', (client) => client.on('error', () => undefined));
  }

  /** A pool for `url` (libpq URL forms: `postgres://…`, `?host=/socket/dir`, `sslmode=`). */
  static connect(url: string, max = 10): PgDb {
    return new PgDb(
      new pg.Pool({
        connectionString: url,
        // The catalog's statements are small and indexed: JIT never pays. Left on, a plan the
        // estimates overprice (the event page over a never-analyzed one-row table) spent
        // ~400 ms of server CPU compiling itself, on each read of the event stream.
        options: '-c jit=off',
        max,
        connectionTimeoutMillis: 5000,
        idleTimeoutMillis: 30_000,
        types,
      }),
    );
  }

  async all<R>(sql: string, params?: Params): Promise<R[]> {
    return this.mapped(() => this.direct.all<R>(sql, params));
  }

  async get<R>(sql: string, params?: Params): Promise<R | undefined> {
    return this.mapped(() => this.direct.get<R>(sql, params));
  }

  async run(sql: string, params?: Params): Promise<number> {
    return this.mapped(() => this.direct.run(sql, params));
  }

  /**
   * Runs `fn` in one SERIALIZABLE transaction, rerun whole (up to 40 times, with a short random
   * pause) on a serialization failure, deadlock or unique violation a concurrent writer caused;
   * `fn` must therefore have no effect outside the database but its result. `lock` names
   * keys taken (session-level advisory locks, in sorted order) before the transaction begins
   * and given back after it ends, so writers of the same hot rows wait in turn rather than
   * rerun. `readCommitted` runs `fn` at READ COMMITTED instead (reruns then only follow a
   * deadlock): for bodies whose row locks make that safe, argued where they are written.
   */
  async tx<T>(
    fn: (t: Queryable) => Promise<T>,
    opts: { lock?: string[]; readCommitted?: boolean } = {},
  ): Promise<T> {
    const begin = `BEGIN ISOLATION LEVEL ${opts.readCommitted ? 'READ COMMITTED' : 'SERIALIZABLE'}`;
    const retry = opts.readCommitted ? RC_RETRY : RETRY;
    const keys = [...new Set(opts.lock ?? [])].sort();
    for (let attempt = 1; ; attempt++) {
      const client = await this.mapped(() => this.pool.connect());
      let broken = false;
      let locked = false;
      try {
        if (keys.length > 0) {
          // Before BEGIN, so before the snapshot: writers of one hot row (a session's counters,
          // a blob's references) queue here instead of failing each other's serialization.
          await client.query(
            'SELECT pg_advisory_lock(hashtextextended(k, 0)) FROM unnest($1::text[]) AS k ORDER BY k',
            [keys],
          );
          locked = true;
        }
        await client.query(begin);
        const out = await fn(wrap(client));
        await client.query('COMMIT');
        return out;
      } catch (err) {
        broken = isConnectionLoss(err);
        if (!broken) await client.query('ROLLBACK').catch(() => (broken = true));
        const code = (err as { code?: string }).code ?? '';
        if (!broken && retry.has(code) && attempt < MAX_ATTEMPTS) {
          await new Promise((r) => setTimeout(r, Math.random() * Math.min(50, attempt * 2)));
          continue;
        }
        throw mapPgError(err);
      } finally {
        if (locked && !broken)
          await client.query('SELECT pg_advisory_unlock_all()').catch(() => (broken = true));
        client.release(broken);
      }
    }
  }

  /**
   * Runs `fn` in a read-only transaction whose statements are stopped after `budgetMs`
   * (`statement_timeout`): QueryTooExpensiveError then, as SQLite's read workers answer.
   */
  async read<T>(budgetMs: number, fn: (t: Queryable) => Promise<T>): Promise<T> {
    const client = await this.mapped(() => this.pool.connect());
    let broken = false;
    try {
      // One round trip. No JIT: it compiles a long where= for seconds (30 s for 736 terms),
      // past any budget, and never pays off for a page of rows.
      await client.query(
        `BEGIN READ ONLY; SET LOCAL statement_timeout = ${Math.max(1, Math.floor(budgetMs))}; SET LOCAL jit = off`,
      );
      const out = await fn(wrap(client));
      await client.query('COMMIT');
      return out;
    } catch (err) {
      broken = isConnectionLoss(err);
      if (!broken) await client.query('ROLLBACK').catch(() => (broken = true));
      throw mapPgError(err, budgetMs);
    } finally {
      client.release(broken);
    }
  }

  /**
   * Resolves once the server answered `SELECT 1` within `ms` (waiting for a free connection
   * included); rejects with CatalogUnavailableError otherwise.
   */
  async ping(ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new CatalogUnavailableError()), ms);
    });
    try {
      await Promise.race([this.read(ms, (t) => t.get('SELECT 1')), late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Ends every connection; further calls fail. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }

  private closed = false;

  private async mapped<T>(f: () => Promise<T>): Promise<T> {
    try {
      return await f();
    } catch (err) {
      throw mapPgError(err);
    }
  }
}
