import { createHash, randomBytes, randomInt } from 'node:crypto';
import pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { PG_MIGRATIONS } from '../../src/catalog/postgres/pg-migrations.js';
import { freshPgDatabase } from '../helpers/engines/pg.js';
import { testS3 } from '../helpers/engines/s3.js';
import { buildAt, previousSchemaCommit } from '../helpers/old-build.js';
import { spawnServer, tempDir, type ServerProcess } from '../helpers/server.js';

// A rolling upgrade: nodes of the previous schema version serve while a node of this version
// starts on the same PostgreSQL and migrates it (under the migrations' advisory lock); old and
// new nodes then serve side by side, each reading what the other acknowledged. An old node
// restarted after the migration refuses to start, naming both schema versions (its catalog is
// newer than it knows), and starts once upgraded.

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** fetch against a node with its admin token. */
function call(node: ServerProcess, path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(node.url + path, {
    ...init,
    headers: { Authorization: `Bearer ${node.token}`, ...(init.headers as Record<string, string>) },
  });
}

let oldCli = '';
let oldCommit = '';

beforeAll(() => {
  oldCommit = previousSchemaCommit();
  oldCli = buildAt(oldCommit);
}, 600_000);

describe('rolling upgrade across a PostgreSQL migration', () => {
  it('old nodes keep serving while a new node migrates; an old node restarted afterwards refuses clearly', async () => {
    const catalog = await freshPgDatabase();
    const s3 = testS3();
    const args = ['--catalog', catalog, '--blobs', s3.url];
    const db = new pg.Client({ connectionString: catalog });
    await db.connect();
    db.on('error', () => undefined); // the database is dropped WITH (FORCE) after the test
    const version = async () =>
      Number(
        (await db.query<{ version: number }>('SELECT version FROM cairn_schema')).rows[0].version,
      );
    const dirs = [tempDir('cairn-node-'), tempDir('cairn-node-'), tempDir('cairn-node-')];
    const running: ServerProcess[] = [];
    const start = async (i: number, cli?: string) => {
      const p = await spawnServer(dirs[i], args, s3.env, cli);
      running.push(p);
      return p;
    };
    try {
      const old1 = await start(0, oldCli);
      const old2 = await start(1, oldCli);
      const oldVersion = await version();
      expect(oldVersion, `${oldCommit} has the same schema; set CAIRN_UPGRADE_FROM`).toBeLessThan(
        PG_MIGRATIONS.length,
      );

      // Pushes spread over the nodes up, acknowledged ones remembered, until told to stop.
      const acked: { id: string; body: Buffer }[] = [];
      const refused: string[] = [];
      let stop = false;
      const load = async (nodes: () => ServerProcess[], w: number) => {
        for (let k = 0; !stop; k++) {
          const node = nodes()[k % nodes().length];
          const body = randomBytes(randomInt(10, k % 5 === 0 ? 200_000 : 5_000));
          const res = await call(node, `/v1/sessions/w${w}/artifacts/f${k}`, {
            method: 'PUT',
            body,
          });
          if (res.status === 201)
            acked.push({ id: ((await res.json()) as { id: string }).id, body });
          else refused.push(`${node.url}: ${res.status} ${await res.text()}`);
        }
      };
      const nodes: ServerProcess[] = [old1, old2];
      const workers = [0, 1, 2, 3].map((w) => load(() => nodes, w));
      const until = async (n: number) => {
        while (acked.length < n && refused.length === 0)
          await new Promise((r) => setTimeout(r, 20));
      };
      await until(20);

      // The new node migrates while the old ones take pushes.
      const before = acked.length;
      const fresh = await start(2);
      expect(await version()).toBe(PG_MIGRATIONS.length);
      const duringMigration = acked.length - before;
      nodes.push(fresh);
      await until(acked.length + 40);
      stop = true;
      await Promise.all(workers);
      expect(refused).toEqual([]);

      // Every acknowledged push reads back whole through a node of the other version.
      for (const [i, a] of acked.entries()) {
        const res = await call(i % 2 ? old1 : fresh, `/v1/artifacts/${a.id}/content`);
        expect(res.status, a.id).toBe(200);
        expect(sha(new Uint8Array(await res.arrayBuffer())), a.id).toBe(sha(a.body));
      }
      // A seal on an old node, its manifest through the new one.
      expect((await call(old2, '/v1/sessions/w0/seal', { method: 'POST' })).status).toBe(200);
      const manifest = (await (await call(fresh, '/v1/sessions/w0/manifest')).json()) as {
        artifacts: unknown[];
      };
      expect(manifest.artifacts.length).toBeGreaterThan(0);

      // An old node restarted now refuses the newer catalog, saying so; upgraded, it serves.
      await old2.stop();
      await expect(start(1, oldCli)).rejects.toThrow(
        new RegExp(
          `schema version ${PG_MIGRATIONS.length} is newer than this Cairn knows \\(${oldVersion}\\)`,
        ),
      );
      const upgraded = await start(1);
      const res = await call(upgraded, `/v1/artifacts/${acked[0].id}/content`);
      expect(res.status).toBe(200);
      const fsck = (await (await call(upgraded, '/v1/fsck', { method: 'POST' })).json()) as {
        problems: unknown[];
      };
      expect(fsck.problems).toEqual([]);
      console.log(
        `rolling upgrade: ${JSON.stringify({ from: oldCommit.slice(0, 7), oldVersion, newVersion: PG_MIGRATIONS.length, acked: acked.length, duringMigration })}`,
      );
    } finally {
      await db.end();
      await Promise.all(running.map((p) => p.stop().catch(() => null)));
    }
  }, 240_000);
});
