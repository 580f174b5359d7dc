import { createHash, randomBytes } from 'node:crypto';
import type { ServerProcess } from '../helpers/server.js';

/** What the harness knows about one artifact a client pushed and the server acknowledged. */
export interface ModelArtifact {
  session: string;
  name: string;
  sha256: string;
  size: number;
  /** `maybe`: a delete was sent but not acknowledged (the server died meanwhile). */
  deleted: 'no' | 'maybe' | 'yes';
  /** Its bytes were checked after a restart. */
  verified?: boolean;
}

/** Everything acknowledged so far, across cycles. */
export interface Model {
  artifacts: Map<string, ModelArtifact>;
  /** Sealed session id → the digest the seal answered with. */
  sealed: Map<string, string>;
  /** Share links acknowledged (the path `/s/<token>`; the port changes between runs). */
  shares: { path: string; sha256: string; verified?: boolean }[];
  /** sha256 of every body any client started to send (for "visible means whole"). */
  bodies: Set<string>;
}

/** Acknowledged operation counters (shared by all clients). */
export interface Acked {
  pushes: number;
  deletes: number;
  seals: number;
  shares: number;
}

const SHARED = Array.from({ length: 8 }, (_, i) =>
  Buffer.from(`shared body ${i}\n`.repeat(i * 40 + 1)),
);

/** A body: mostly small and distinct, some larger, a fifth shared (dedupe across crashes). */
function body(): Buffer {
  const r = Math.random();
  if (r < 0.2) return SHARED[Math.floor(Math.random() * SHARED.length)];
  if (r < 0.6) return randomBytes(100 + Math.floor(Math.random() * 900));
  if (r < 0.9) return randomBytes(1024 + Math.floor(Math.random() * 15 * 1024));
  return randomBytes(64 * 1024 + Math.floor(Math.random() * 192 * 1024));
}

/**
 * One client of the crash loop: until `stop.now`, pushes into its open session, deletes some of
 * its own artifacts, shares some, and now and then seals the session and moves to a new one.
 * Records in `model` only what the server acknowledged (and deletes in flight as `maybe`).
 */
export async function crashClient(
  server: ServerProcess,
  model: Model,
  prefix: string,
  stop: { now: boolean },
  acked: Acked,
): Promise<void> {
  const headers = { Authorization: `Bearer ${server.token}` };
  let k = 0;
  let session = `${prefix}_s${k}`;
  let mine: string[] = []; // acknowledged, undeleted, unshared artifacts of the open session
  for (let i = 0; !stop.now; i++) {
    const r = Math.random();
    try {
      if (r < 0.12 && mine.length > 0) {
        const id = mine.splice(Math.floor(Math.random() * mine.length), 1)[0];
        const a = model.artifacts.get(id) as ModelArtifact;
        a.deleted = 'maybe';
        const res = await fetch(`${server.url}/v1/artifacts/${id}`, { method: 'DELETE', headers });
        await res.body?.cancel();
        if (res.status === 200) {
          a.deleted = 'yes';
          acked.deletes++;
        } else a.deleted = 'no';
      } else if (r < 0.16 && mine.length > 0) {
        const res = await fetch(`${server.url}/v1/sessions/${session}/seal`, {
          method: 'POST',
          headers,
        });
        const rec = (await res.json()) as { digest?: string };
        if (res.status === 200 && rec.digest) {
          model.sealed.set(session, rec.digest);
          acked.seals++;
        }
        session = `${prefix}_s${++k}`;
        mine = [];
      } else if (r < 0.22 && mine.length > 0) {
        const id = mine.pop() as string;
        const res = await fetch(`${server.url}/v1/artifacts/${id}/share`, {
          method: 'POST',
          headers: { ...headers, 'Content-Type': 'application/json' },
          body: '{"ttl":"7d"}',
        });
        const rec = (await res.json()) as { url?: string };
        if (res.status === 201 && rec.url) {
          const a = model.artifacts.get(id) as ModelArtifact;
          model.shares.push({ path: new URL(rec.url).pathname, sha256: a.sha256 });
          acked.shares++;
        }
      } else {
        const b = body();
        const digest = createHash('sha256').update(b).digest('hex');
        model.bodies.add(digest);
        const name = `dir${i % 3}/f${i}.bin`;
        const res = await fetch(`${server.url}/v1/sessions/${session}/artifacts/${name}`, {
          method: 'PUT',
          body: b,
          headers,
        });
        const rec = (await res.json()) as { id?: string };
        if (res.status === 201 && rec.id) {
          model.artifacts.set(rec.id, {
            session,
            name,
            sha256: digest,
            size: b.length,
            deleted: 'no',
          });
          mine.push(rec.id);
          acked.pushes++;
        }
      }
    } catch {
      // The server was killed mid-request: whatever was in flight is unacknowledged.
    }
  }
}
