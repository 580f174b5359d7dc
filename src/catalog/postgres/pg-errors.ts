import {
  BusyError,
  CairnError,
  CatalogUnavailableError,
  ConflictError,
  InvalidInputError,
} from '../../lib/errors.js';
import { QueryTooExpensiveError } from '../sqlite/read-pool.js';

/** SQLSTATEs and socket errors that mean the server is gone, not that the statement is wrong. */
export function isConnectionLoss(err: unknown): boolean {
  const e = err as { code?: string; message?: string } | undefined;
  const code = e?.code ?? '';
  if (/^08/.test(code) || ['57P01', '57P02', '57P03', '53300'].includes(code)) return true;
  if (
    [
      'ECONNREFUSED',
      'ECONNRESET',
      'ENOTFOUND',
      'EPIPE',
      'ETIMEDOUT',
      'EHOSTUNREACH',
      'ENOENT',
    ].includes(code)
  )
    return true;
  return /Connection terminated|connection timeout|Client has encountered a connection error|not queryable/i.test(
    e?.message ?? '',
  );
}

/** A PostgreSQL error as the CairnError callers expect (or itself). */
export function mapPgError(err: unknown, budgetMs?: number): unknown {
  const code = (err as { code?: string } | undefined)?.code;
  if (code === '57014' && budgetMs !== undefined) return new QueryTooExpensiveError(budgetMs);
  if (isConnectionLoss(err)) return new CatalogUnavailableError(err);
  // Text PostgreSQL cannot store (U+0000 where no escape applies): the request's fault.
  if (code === '22021' || code === '22P05')
    return new InvalidInputError(
      'invalid_text',
      'a value holds a character the catalog cannot store (U+0000); remove it and retry',
    );
  if (code === '23505')
    return new ConflictError('conflict', 'a concurrent write took the same id; retry the request');
  // Still conflicting after every rerun (see PgDb.tx): busy, not broken.
  if (code === '40001' || code === '40P01')
    return new BusyError(
      'catalog_busy',
      'the catalog is busy with concurrent writes to the same rows; retry shortly',
    );
  return err;
}

/**
 * Why the catalog could not be opened, as one line naming the server and database (never the
 * password) and what to check; a schema refusal passes through as it is.
 */
export function openError(err: unknown, url: string): unknown {
  if (!(err as { code?: unknown })?.code) return err;
  let at = 'the --catalog URL';
  try {
    const u = new URL(url);
    const host = u.searchParams.get('host') ?? (u.hostname || 'localhost');
    at = `${host}${u.port ? `:${u.port}` : ''}${u.pathname}`;
  } catch {
    // keep the generic name
  }
  return new CairnError(
    'catalog_unavailable',
    503,
    `cannot open the PostgreSQL catalog at ${at}: ${(err as Error).message}; check --catalog ` +
      '(host, port, database, user, password) and that PostgreSQL is running',
    { cause: err },
  );
}
