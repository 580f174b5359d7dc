import type Database from 'better-sqlite3';

/**
 * Inserts artifacts 1..n into session `s` in one transaction, straight in the real schema (as
 * the benchmark generator does: thousands of rows without a push each), all referencing one
 * blob. Artifact i is named `f<i>`, created at i, with `typeOf(i)` and `metaOf(i)`.
 */
export function bulkArtifacts(
  db: Database.Database,
  n: number,
  o: { typeOf?: (i: number) => string; metaOf?: (i: number) => Record<string, string> } = {},
): void {
  db.transaction(() => {
    db.prepare("INSERT INTO sessions (id, created_at, updated_at) VALUES ('s', 1, 1)").run();
    db.prepare("INSERT INTO blobs (sha256, size, refs) VALUES ('00', 1, ?)").run(n);
    const art = db.prepare(
      `INSERT INTO artifacts (id, session_seq, name, version, sha256, size, content_type, meta, created_at, is_latest)
       VALUES (?, 1, ?, 1, '00', 1, ?, ?, ?, 1)`,
    );
    const meta = db.prepare(
      'INSERT INTO artifact_meta (key, value, artifact_seq) VALUES (?, ?, ?)',
    );
    for (let i = 1; i <= n; i++) {
      const m = o.metaOf?.(i) ?? {};
      const type = o.typeOf?.(i) ?? 'text/plain';
      const id = `a_${String(i).padStart(26, '0')}`;
      const seq = Number(art.run(id, `f${i}`, type, JSON.stringify(m), i).lastInsertRowid);
      for (const [k, v] of Object.entries(m)) meta.run(k, v, seq);
    }
  })();
}
