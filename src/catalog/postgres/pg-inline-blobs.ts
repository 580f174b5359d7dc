import type { SmallBlobStore } from '../../blobs/small-blob-store.js';
import { Coalescer } from './pg-coalescer.js';
import { prepared, type PgDb } from './pg-db.js';

const PAGE = 1000;

/**
 * Small blobs as BYTEA rows of `inline_blobs` in the catalog database, so a push of a few KiB
 * costs a row instead of an object in the blob store. A put resolves once committed, durable
 * to the server's own setting; every node sharing the catalog reads it.
 */
export class PgInlineBlobs implements SmallBlobStore {
  /** Concurrent puts, one INSERT and one commit each group (see pg-coalescer.ts). */
  private readonly puts: Coalescer<{ sha256: string; bytes: Buffer }, boolean>;

  constructor(private readonly db: PgDb) {
    this.puts = new Coalescer(async (items) => {
      // In hash order, so two groups inserting the same new values never wait in a cycle.
      const bytes = new Map(items.map((i) => [i.sha256, i.bytes]));
      const shas = [...bytes.keys()].sort();
      const data = shas.map((sha) => bytes.get(sha));
      const added = await this.db.all<{ sha256: string }>(
        prepared(`INSERT INTO inline_blobs (sha256, data)
         SELECT * FROM unnest($1::text[], $2::bytea[]) ORDER BY 1
         ON CONFLICT (sha256) DO NOTHING RETURNING sha256`),
        [shas, data],
      );
      // The first put of a value new to the store says it was new; any other, not.
      const fresh = new Set(added.map((r) => r.sha256));
      return items.map((i) => ({ ok: true as const, value: fresh.delete(i.sha256) }));
    });
  }

  async put(sha256: string, bytes: Buffer): Promise<boolean> {
    return this.puts.run({ sha256, bytes });
  }

  /** Resolves once no put is queued or running. */
  drain(): Promise<void> {
    return this.puts.drain();
  }

  async get(sha256: string): Promise<Buffer | null> {
    const r = await this.db.get<{ data: Buffer }>(
      'SELECT data FROM inline_blobs WHERE sha256 = $1',
      [sha256],
    );
    return r?.data ?? null;
  }

  async size(sha256: string): Promise<number | null> {
    const r = await this.db.get<{ n: number }>(
      'SELECT octet_length(data) AS n FROM inline_blobs WHERE sha256 = $1',
      [sha256],
    );
    return r?.n ?? null;
  }

  async delete(sha256: string): Promise<void> {
    await this.db.run('DELETE FROM inline_blobs WHERE sha256 = $1', [sha256]);
  }

  async removeRecentOrphans(
    isReferenced: (sha256: string) => Promise<boolean>,
    window: number,
    remove?: (sha256: string) => Promise<boolean>,
  ): Promise<string[]> {
    // seq grows with inserts, so the values a crash could orphan are among the newest.
    const recent = await this.db.all<{ sha256: string }>(
      'SELECT sha256 FROM inline_blobs ORDER BY seq DESC LIMIT $1',
      [window],
    );
    const removed: string[] = [];
    for (const { sha256 } of recent) {
      if (await isReferenced(sha256)) continue;
      // `remove` (a server's start: collection marks, which a push waits out or refuses, see
      // InlinePushCatalog) or, without it (an offline command), a delete under the mark's key.
      if (await (remove ?? ((s) => this.removeUnreferenced(s)))(sha256)) removed.push(sha256);
    }
    return removed;
  }

  /**
   * Deletes the value unless a live lease or a reference holds it; true if it went. Other
   * nodes share this table, and a small push on another node takes no lease: it stores these
   * bytes (ON CONFLICT DO NOTHING, which neither waits for nor locks the row it finds) and
   * commits their reference later in the same transaction (cairn_add_inline), holding the
   * blob's advisory key `b:<sha256>` from before its insert to its commit. A bare DELETE could
   * run between that insert and that commit, see no reference and remove the bytes an
   * acknowledged push then references. So the DELETE runs under the same key, taken before its
   * snapshot (PgDb.tx), as markBlob does; with it, every interleaving keeps a referenced value:
   * - the push holds the key first: the DELETE starts after its commit and sees its reference;
   * - the DELETE holds it first: the push's insert runs after the DELETE's commit, finds no
   *   row and stores the bytes anew;
   * - a lease-path push (cairn_lease_blobs takes the key) committed its lease before its bytes:
   *   the DELETE, whose snapshot is taken after the key, sees the lease; or it held the key
   *   first, so the lease, and the put after it, come after its commit and store them anew.
   */
  private removeUnreferenced(sha256: string): Promise<boolean> {
    return this.db.tx(
      async (t) =>
        (await t.run(
          `DELETE FROM inline_blobs WHERE sha256 = $1
             AND NOT EXISTS (SELECT 1 FROM blob_leases WHERE sha256 = $1 AND until > $2)
             AND NOT EXISTS (SELECT 1 FROM blobs WHERE sha256 = $1 AND refs > 0)`,
          [sha256, Date.now()],
        )) > 0,
      { lock: [`b:${sha256}`], readCommitted: true },
    );
  }

  async *list(): AsyncIterable<string> {
    for (let after = ''; ;) {
      const rows = await this.db.all<{ sha256: string }>(
        'SELECT sha256 FROM inline_blobs WHERE sha256 > $1 ORDER BY sha256 LIMIT $2',
        [after, PAGE],
      );
      for (const r of rows) yield r.sha256;
      if (rows.length < PAGE) return;
      after = rows[rows.length - 1].sha256;
    }
  }
}
