import { Readable } from 'node:stream';
import tar from 'tar-stream';
import { expect } from 'vitest';
import type { TestServer } from '../helpers/server.js';

// Requests the share-link tests make (share-links.test.ts, share-sessions.test.ts).

/** A share link as the API lists and returns it (the URL only when created). */
export interface Link {
  id: string;
  url: string;
  expires_at: string;
  status: string;
  downloads: number;
  max_downloads: number | null;
  last_access_at: string | null;
}

/** A JSON request body with its Content-Type. */
export const json = (body: unknown) => ({
  body: JSON.stringify(body),
  headers: { 'Content-Type': 'application/json' },
});

/** A plain fetch: no bearer token, no cookies — what the person the link went to has. */
export const open = (url: string, init: RequestInit = {}) => fetch(url, init);

/** The `error.code` of a JSON error answer. */
export const errorCode = async (res: Response) =>
  ((await res.json()) as { error: { code: string } }).error.code;

/** Calls against the test server `server()` returns (read when called, after beforeAll). */
export function shareHelpers(server: () => TestServer) {
  /** Pushes `body` to `path` (a PUT URL path); expects 201. */
  async function push(path: string, body: string | Buffer, type?: string) {
    const res = await server().fetch(path, {
      method: 'PUT',
      // A Buffer, so fetch adds no Content-Type of its own: the type comes from the name.
      body: Buffer.from(body),
      headers: type ? { 'Content-Type': type } : {},
    });
    expect(res.status).toBe(201);
    return (await res.json()) as { id: string; sha256: string };
  }
  /** Creates a link to artifact `id`; expects 201. */
  async function share(id: string, body: Record<string, unknown> = {}): Promise<Link> {
    const res = await server().fetch(`/v1/artifacts/${id}/share`, {
      method: 'POST',
      ...json(body),
    });
    expect(res.status).toBe(201);
    return (await res.json()) as Link;
  }
  /** Link `id` as `GET /v1/shares` lists it; expects it listed. */
  async function listed1(id: string): Promise<Link & Record<string, unknown>> {
    const items = (
      (await (await server().fetch('/v1/shares')).json()) as {
        items: (Link & Record<string, unknown>)[];
      }
    ).items;
    const found = items.find((i) => i.id === id);
    expect(found).toBeDefined();
    return found as Link & Record<string, unknown>;
  }
  return { push, share, listed1 };
}

/** The entries of a tar, by name, as UTF-8 text. */
export async function untar(buf: Buffer): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const ex = tar.extract();
  ex.on('entry', (header, stream, next) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c) => chunks.push(c as Buffer));
    stream.on('end', () => {
      out.set(header.name, Buffer.concat(chunks).toString('utf8'));
      next();
    });
  });
  await new Promise<void>((resolve, reject) => {
    ex.on('finish', resolve);
    ex.on('error', reject);
    Readable.from([buf]).pipe(ex);
  });
  return out;
}
