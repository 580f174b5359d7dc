import { createConnection, createServer, type Server, type Socket } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { catalogRegistry } from '../../src/catalog/catalog-registry.js';
import { PgCatalog } from '../../src/catalog/postgres/pg-catalog.js';
import { PG_MIGRATIONS } from '../../src/catalog/postgres/pg-migrations.js';
import { freshPgDatabase } from '../helpers/engines/pg.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/**
 * A TCP relay in front of the run's PostgreSQL, which the test cuts (every connection dropped,
 * new ones refused) and restores on the same port: the server's view of PostgreSQL going away
 * and coming back.
 */
class Relay {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  port = 0;

  constructor(private readonly target: { host: string; port: number }) {}

  async up(): Promise<void> {
    if (this.server) return;
    const server = createServer((client) => {
      const upstream = createConnection(this.target);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((res, rej) => {
      server.once('error', rej);
      server.listen(this.port, '127.0.0.1', res);
    });
    this.port = (server.address() as { port: number }).port;
    this.server = server;
  }

  async down(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise((res) => this.server?.close(res));
    this.server = null;
  }
}

describe('PostgreSQL unreachable, then back', () => {
  let relay: Relay;
  let s: TestServer;
  beforeAll(async () => {
    const direct = new URL(await freshPgDatabase());
    relay = new Relay({ host: direct.hostname, port: Number(direct.port) });
    await relay.up();
    direct.port = String(relay.port);
    s = await startTestServer({ catalogUrl: direct.toString(), sweepIntervalMs: 3_600_000 });
  });
  afterAll(async () => {
    await relay.up();
    await s.close();
  });

  it('answers 503 catalog_unavailable with Retry-After, writes nothing half, and recovers', async () => {
    const put = (name: string) =>
      s.fetch(`/v1/sessions/outage/artifacts/${name}`, { method: 'PUT', body: `bytes of ${name}` });
    expect((await put('before.txt')).status).toBe(201);
    await relay.down();
    for (const res of [
      await put('during.txt'),
      await s.fetch('/v1/sessions/outage/artifacts/before.txt'),
      await s.fetch('/v1/artifacts?session=outage'),
    ]) {
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(res.status, JSON.stringify(body)).toBe(503);
      expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(body.error.code).toBe('catalog_unavailable');
      expect(body.error.message).toMatch(/retry/);
    }
    await relay.up();
    // The pool opens fresh connections by itself: no restart.
    expect((await put('after.txt')).status).toBe(201);
    const list = await s.fetch('/v1/artifacts?session=outage');
    const names = ((await list.json()) as { items: { name: string }[] }).items.map((a) => a.name);
    expect(names.sort()).toEqual(['after.txt', 'before.txt']);
    expect((await s.fetch('/v1/sessions/outage')).status).toBe(200);
    const session = (await (await s.fetch('/v1/sessions/outage')).json()) as {
      artifact_count: number;
    };
    expect(session.artifact_count).toBe(2);
  });
});

describe('a PostgreSQL query past its budget', () => {
  let s: TestServer;
  let url: string;
  beforeAll(async () => {
    url = await freshPgDatabase();
    s = await startTestServer({ catalogUrl: url, queryTimeoutMs: 50 });
    // 10,000 artifacts written straight into the schema (as bulkArtifacts does for SQLite).
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    await c.query(`INSERT INTO sessions (id, created_at, updated_at) VALUES ('bulk', 0, 0)`);
    await c.query(`INSERT INTO blobs (sha256, size, refs) VALUES (repeat('a', 64), 1, 10000)`);
    await c.query(
      `INSERT INTO artifacts (id, session_seq, name, version, sha256, size, content_type, meta, created_at, is_latest)
       SELECT 'a_' || i, (SELECT seq FROM sessions), 'f' || i, 1, repeat('a', 64), 1, 'text/plain', '{}', i, 1
       FROM generate_series(1, 10000) AS i`,
    );
    await c.end();
  });
  afterAll(async () => s.close());

  // PostgreSQL answers or-ed terms on one metadata key with one lookup per row (pg-where.ts),
  // so the corpus's expressions are cheap here. Globs on the name that match no artifact are a
  // regex per term per row over every row; kept inside the 4,096-character limit.
  const MANY_GLOBS = (() => {
    let out = '';
    for (let i = 0; ; i++) {
      const t = `name~'*${i}*z'`;
      if (out.length + 4 + t.length > 4096) return out;
      out += (out ? ' or ' : '') + t;
    }
  })();

  it('or-ed globs on the name matching nothing: 400 query_too_expensive, as on SQLite', async () => {
    const res = await s.fetch(`/v1/artifacts?where=${encodeURIComponent(MANY_GLOBS)}`);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(res.status, JSON.stringify(body).slice(0, 300)).toBe(400);
    expect(body.error.code).toBe('query_too_expensive');
    expect(body.error.message).toMatch(/session=/);
  });

  it('leaves the pool answering: the next cheap query gets its rows', async () => {
    const ok = await s.fetch('/v1/artifacts?session=bulk&limit=5');
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { items: unknown[] }).items).toHaveLength(5);
  });
});

describe('opening a PostgreSQL catalog', () => {
  it('over a Unix socket, libpq style (postgresql:///DB?host=/socket/dir)', async () => {
    const db = new URL(await freshPgDatabase()).pathname.slice(1);
    const sock = process.env.CAIRN_TEST_PG_SOCKET as string;
    const port = process.env.CAIRN_TEST_PG_PORT as string;
    const url = `postgresql:///${db}?host=${encodeURIComponent(sock)}&port=${port}&user=postgres`;
    catalogRegistry.check(url);
    const c = await catalogRegistry.open(url, { durability: 'process' });
    try {
      expect(c).toBeInstanceOf(PgCatalog);
      // No client address: the connection is over the socket, not TCP.
      const peer = await (c as PgCatalog).db.get<{ a: string | null }>(
        'SELECT inet_client_addr() AS a',
      );
      expect(peer).toEqual({ a: null });
      await c.createSession({ id: 'over-socket', meta: {}, expiresAt: null, now: 1 });
      expect((await c.getSession('over-socket', 2))?.id).toBe('over-socket');
    } finally {
      await c.close();
    }
  });

  it('migrates once when nodes start at once, and refuses a schema newer than it knows', async () => {
    const url = await freshPgDatabase();
    const nodes = await Promise.all(Array.from({ length: 4 }, () => PgCatalog.open({ url })));
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      expect((await c.query('SELECT version FROM cairn_schema')).rows).toEqual([
        { version: PG_MIGRATIONS.length },
      ]);
      await Promise.all(nodes.map((n) => n.close()));
      await c.query('UPDATE cairn_schema SET version = 99');
      await expect(PgCatalog.open({ url })).rejects.toThrow(
        `schema version 99 is newer than this Cairn knows (${PG_MIGRATIONS.length})`,
      );
    } finally {
      await c.end();
    }
  });
});
