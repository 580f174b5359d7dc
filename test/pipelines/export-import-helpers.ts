import tar from 'tar-stream';
import { expect } from 'vitest';
import type { TestServer } from '../helpers/server.js';

// Requests and tars for the export/import tests (export-import*.test.ts).

/** Pushes `body` as `sid/name` (plus `query`) into `s`; expects 201 and returns the record. */
export async function push(s: TestServer, sid: string, name: string, body: string, query = '') {
  const res = await s.fetch(`/v1/sessions/${sid}/artifacts/${name}${query}`, {
    method: 'PUT',
    body,
  });
  expect(res.status).toBe(201);
  return (await res.json()) as { id: string; sha256: string };
}

/** `GET /v1/sessions/{sid}/export` of `s`; expects a 200 tar. */
export async function exportTar(s: TestServer, sid: string): Promise<Buffer> {
  const res = await s.fetch(`/v1/sessions/${sid}/export`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('application/x-tar');
  return Buffer.from(await res.arrayBuffer());
}

/** `POST /v1/import` of `body` into `s`: its status and JSON answer. */
export async function importTar(s: TestServer, body: Buffer | Uint8Array) {
  const res = await s.fetch('/v1/import', {
    method: 'POST',
    body,
    headers: { 'Content-Type': 'application/x-tar' },
  });
  return {
    status: res.status,
    body: (await res.json()) as {
      created?: boolean;
      session?: Record<string, unknown>;
      error?: { code: string };
    },
  };
}

/** A tar entry header as tar-stream takes it. */
export type EntryHeader = Parameters<tar.Pack['entry']>[0];

/** Builds a tar from entries (headers as tar-stream takes them). */
export async function makeTar(
  entries: { header: EntryHeader; body?: string | Buffer }[],
  cut?: number,
): Promise<Buffer> {
  const pack = tar.pack();
  for (const e of entries) {
    if (e.body === undefined) pack.entry(e.header);
    else pack.entry(e.header, e.body);
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  const all = Buffer.concat(chunks);
  return cut === undefined ? all : all.subarray(0, cut);
}

/** The text of the first entry of tar `t` (an export's document). */
export async function firstEntry(t: Buffer): Promise<string> {
  const extract = tar.extract();
  extract.end(t);
  for await (const e of extract) {
    const chunks: Buffer[] = [];
    for await (const c of e) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }
  throw new Error('empty tar');
}
