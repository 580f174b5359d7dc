import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';
import type { ArtifactQuery } from '../../core/types.js';
import { NUMBER_RE } from '../../lib/number-text.js';
import { catalogReads, type CatalogRead } from './catalog-reads.js';
import { FollowedBitmaps } from './followed-bitmaps.js';
import { cacheStatements } from './statement-cache.js';

/** What the pool hands a read worker at start (see read-pool.ts). */
export interface ReadWorkerData {
  /** Path of catalog.db. */
  file: string;
  /** The native binding's file (single binary); default: better-sqlite3's own lookup. */
  nativeBindingPath?: string;
}

/** A read to run: `[id, read, args]`. */
export type ReadRequest = [id: number, read: CatalogRead, args: unknown[]];

/** Its answer: `[id, true, value]` or `[id, false, error]`; `['ready']` once open. */
export type ReadReply =
  [id: number, ok: true, value: unknown] | [id: number, ok: false, error: ReadFailure] | ['ready'];

/** An error crossing back to the pool: a CairnError keeps its code and status. */
export interface ReadFailure {
  message: string;
  code?: string;
  status?: number;
  details?: Record<string, unknown>;
}

/** Registers the SQL functions the catalog's queries call (the writer registers them too). */
export function registerQueryFunctions(db: Database.Database): void {
  db.function('cairn_isnum', { deterministic: true }, (v: unknown) =>
    typeof v === 'string' && NUMBER_RE.test(v) ? 1 : 0,
  );
  // Called once per row a where= expression tests (see compileWhere): a call into JavaScript
  // is where a terminated worker stops, where SQLite's own loop would run on to its end.
  db.function('cairn_tick', { deterministic: false, varargs: true }, () => 1);
}

function open(data: ReadWorkerData): Database.Database {
  const nativeBinding = data.nativeBindingPath ? loadAddon(data.nativeBindingPath) : undefined;
  const db = new Database(data.file, {
    readonly: true,
    fileMustExist: true,
    nativeBinding: nativeBinding as string | undefined,
  });
  db.pragma('busy_timeout = 5000');
  db.pragma('cache_size = -32768');
  registerQueryFunctions(db);
  cacheStatements(db);
  return db;
}

function loadAddon(path: string): unknown {
  const mod = { exports: {} as unknown };
  process.dlopen(mod, path);
  return mod.exports;
}

function failure(err: unknown): ReadFailure {
  const e = err as { message?: string; code?: unknown; status?: unknown; details?: unknown };
  if (typeof e?.status === 'number' && typeof e.code === 'string')
    return {
      message: String(e.message),
      code: e.code,
      status: e.status,
      details: e.details as Record<string, unknown> | undefined,
    };
  return { message: String(e?.message ?? err) };
}

if (parentPort && (workerData as { cairnReadWorker?: boolean } | null)?.cairnReadWorker) {
  const port = parentPort;
  const db = open(workerData as ReadWorkerData);
  // Each worker keeps its own bitmaps (half the writer's budget: there are two workers).
  const bitmaps = new FollowedBitmaps(db, { maxBytes: 16 * 1024 * 1024 });
  port.on('message', ([id, read, args]: ReadRequest) => {
    try {
      const value =
        read === 'queryArtifacts'
          ? catalogReads.queryArtifacts(
              db,
              args[0] as ArtifactQuery,
              args[1] as number,
              bitmaps.current(),
            )
          : (catalogReads[read] as (db: Database.Database, ...a: unknown[]) => unknown)(
              db,
              ...args,
            );
      port.postMessage([id, true, value] satisfies ReadReply);
    } catch (err) {
      port.postMessage([id, false, failure(err)] satisfies ReadReply);
    }
  });
  port.postMessage(['ready'] satisfies ReadReply);
}
