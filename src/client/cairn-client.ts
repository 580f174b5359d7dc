import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { Readable } from 'node:stream';
import type { ShareRecord } from '../core/share-service.js';
import type { ArtifactRecord, Page, SessionRecord, TokenRecord } from '../core/types.js';

/** An error answer from a Cairn server (or a transport failure, code `connection_failed`). */
export class CairnApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'CairnApiError';
  }
}

/** Options for {@link CairnClient}. */
export interface ClientOptions {
  /** Base URL, default http://127.0.0.1:7070 */
  url?: string;
  token?: string;
}

/** What a push sends besides the bytes. */
export interface PushOptions {
  meta?: Record<string, string>;
  ttl?: string;
  contentType?: string;
  derivedFrom?: string[];
  /** sha256 hex of the body: sent as Content-Digest and verified by the server. */
  sha256?: string;
  idempotencyKey?: string;
  /** Bytes pushed so far (for progress bars). */
  onProgress?: (sent: number) => void;
}

/** Query parameters of `GET /v1/artifacts`. */
export interface ArtifactQueryParams {
  session?: string;
  meta?: Record<string, string>;
  type?: string;
  name?: string;
  since?: string;
  until?: string;
  latest?: boolean;
  where?: string;
  limit?: number;
  cursor?: string;
}

/** A share link as listed by `GET /v1/shares` (never its secret). */
export type ShareInfo = ShareRecord;

/** A newly created share link, with its URL (shown once). */
export type ShareCreated = ShareInfo & { url: string };

/** What `POST /v1/gc` removed, or would remove with `dry_run`. */
export interface GcResult {
  dry_run: boolean;
  sessions: string[];
  sessions_expired: number;
  artifacts_expired: number;
  blobs_freed: number;
  bytes_freed: number;
}

type Body = string | Buffer | Readable | undefined;

/**
 * TypeScript client for the Cairn HTTP API (what the CLI and MCP server use). Streams in both
 * directions. Every method throws CairnApiError with the server's code and message on failure.
 */
export class CairnClient {
  readonly url: string;
  private readonly token?: string;

  constructor(opts: ClientOptions = {}) {
    this.url = (opts.url ?? 'http://127.0.0.1:7070').replace(/\/+$/, '');
    this.token = opts.token;
  }

  /** Low-level request; resolves with the response (status < 400) without reading its body. */
  request(
    method: string,
    path: string,
    opts: { body?: Body; headers?: Record<string, string | number> } = {},
  ): Promise<http.IncomingMessage> {
    const target = new URL(this.url + path);
    const mod = target.protocol === 'https:' ? https : http;
    const headers: Record<string, string | number> = { ...opts.headers };
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    return new Promise((resolve, reject) => {
      const req = mod.request(target, { method, headers }, (res) => {
        if ((res.statusCode ?? 500) < 400) return resolve(res);
        void readAll(res).then((buf) => reject(toError(res.statusCode ?? 500, buf)), reject);
      });
      req.on('error', (err) =>
        reject(
          new CairnApiError(
            0,
            'connection_failed',
            `cannot reach Cairn at ${this.url}: ${err.message}`,
          ),
        ),
      );
      const body = opts.body;
      if (body instanceof Readable) {
        body.on('error', (err) => req.destroy(err));
        body.pipe(req);
      } else req.end(body);
    });
  }

  /** JSON request helper. */
  async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.request(
      method,
      path,
      body === undefined
        ? {}
        : { body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } },
    );
    const buf = await readAll(res);
    return (buf.length ? JSON.parse(buf.toString('utf8')) : {}) as T;
  }

  /** Pushes bytes (a Buffer, string or stream) as `session/name`. */
  async push(
    session: string,
    name: string,
    body: string | Buffer | Readable,
    opts: PushOptions = {},
  ): Promise<ArtifactRecord & { deduplicated: boolean }> {
    const headers: Record<string, string | number> = {};
    if (opts.contentType) headers['Content-Type'] = opts.contentType;
    if (opts.sha256)
      headers['Content-Digest'] = `sha-256=:${Buffer.from(opts.sha256, 'hex').toString('base64')}:`;
    if (opts.idempotencyKey) headers['Idempotency-Key'] = opts.idempotencyKey;
    if (!(body instanceof Readable)) headers['Content-Length'] = Buffer.byteLength(body);
    let stream = body;
    if (body instanceof Readable && opts.onProgress) {
      let sent = 0;
      const progress = opts.onProgress;
      body.on('data', (chunk: Buffer) => progress((sent += chunk.length)));
      stream = body;
    }
    const res = await this.request(
      'PUT',
      `${artifactPath(session, name)}?${pushQuery(opts).toString()}`,
      { body: stream, headers },
    );
    return JSON.parse((await readAll(res)).toString('utf8')) as ArtifactRecord & {
      deduplicated: boolean;
    };
  }

  /**
   * Pushes a local file: hashes it first, then skips the upload (push by reference) when the
   * server already holds its bytes; otherwise streams it with a Content-Digest to verify.
   */
  async pushFile(
    session: string,
    name: string,
    path: string,
    opts: PushOptions = {},
  ): Promise<ArtifactRecord & { deduplicated: boolean }> {
    const sha256 = await hashFile(path);
    if (await this.hasBlob(sha256)) {
      const res = await this.request(
        'PUT',
        `${artifactPath(session, name)}?${pushQuery(opts).toString()}&sha256=${sha256}`,
        {
          headers: {
            'Content-Length': 0,
            ...(opts.contentType ? { 'Content-Type': opts.contentType } : {}),
            ...(opts.idempotencyKey ? { 'Idempotency-Key': opts.idempotencyKey } : {}),
          },
        },
      );
      return JSON.parse((await readAll(res)).toString('utf8')) as ArtifactRecord & {
        deduplicated: boolean;
      };
    }
    return this.push(session, name, createReadStream(path, { highWaterMark: 1024 * 1024 }), {
      ...opts,
      sha256,
    });
  }

  /** True if the server holds bytes with this sha256. */
  async hasBlob(sha256: string): Promise<boolean> {
    try {
      const res = await this.request('HEAD', `/v1/blobs/${sha256}`);
      res.resume();
      return true;
    } catch (err) {
      if (err instanceof CairnApiError && err.status === 404) return false;
      throw err;
    }
  }

  /** Streams the bytes of `session/name` (latest or a version). */
  async download(session: string, name: string, version?: number): Promise<http.IncomingMessage> {
    return this.request(
      'GET',
      `${artifactPath(session, name)}${version ? `?version=${version}` : ''}`,
    );
  }

  /** Streams the bytes of an artifact by id. */
  async downloadById(id: string): Promise<http.IncomingMessage> {
    return this.request('GET', `/v1/artifacts/${encodeURIComponent(id)}/content`);
  }

  artifact(id: string): Promise<ArtifactRecord> {
    return this.json('GET', `/v1/artifacts/${encodeURIComponent(id)}`);
  }

  query(q: ArtifactQueryParams = {}): Promise<Page<ArtifactRecord>> {
    const p = new URLSearchParams();
    for (const [k, v] of Object.entries(q)) {
      if (v === undefined || k === 'meta') continue;
      p.set(k, String(v));
    }
    for (const [k, v] of Object.entries(q.meta ?? {})) p.append(`meta.${k}`, v);
    return this.json('GET', `/v1/artifacts?${p.toString()}`);
  }

  sessions(
    q: {
      meta?: Record<string, string>;
      sealed?: boolean;
      where?: string;
      limit?: number;
      cursor?: string;
      q?: string;
    } = {},
  ): Promise<Page<SessionRecord>> {
    const p = new URLSearchParams();
    for (const [k, v] of Object.entries(q))
      if (v !== undefined && k !== 'meta') p.set(k, String(v as string | number | boolean));
    for (const [k, v] of Object.entries(q.meta ?? {})) p.append(`meta.${k}`, v);
    return this.json('GET', `/v1/sessions?${p.toString()}`);
  }

  session(id: string): Promise<SessionRecord & { artifacts: ArtifactRecord[] }> {
    return this.json('GET', `/v1/sessions/${encodeURIComponent(id)}`);
  }

  createSession(
    id: string,
    opts: { meta?: Record<string, string>; ttl?: string } = {},
  ): Promise<SessionRecord> {
    return this.json('POST', '/v1/sessions', { id, ...opts });
  }

  seal(id: string): Promise<SessionRecord> {
    return this.json('POST', `/v1/sessions/${encodeURIComponent(id)}/seal`);
  }

  manifest(id: string): Promise<unknown> {
    return this.json('GET', `/v1/sessions/${encodeURIComponent(id)}/manifest`);
  }

  deleteArtifact(id: string): Promise<ArtifactRecord> {
    return this.json('DELETE', `/v1/artifacts/${encodeURIComponent(id)}`);
  }

  createToken(
    scope: string,
    opts: { name?: string; sessions?: string } = {},
  ): Promise<TokenRecord & { token: string }> {
    return this.json('POST', '/v1/tokens', { scope, ...opts });
  }

  async tokens(): Promise<TokenRecord[]> {
    return (await this.json<{ items: TokenRecord[] }>('GET', '/v1/tokens')).items;
  }

  revokeToken(id: string): Promise<unknown> {
    return this.json('DELETE', `/v1/tokens/${encodeURIComponent(id)}`);
  }

  /**
   * The id of the latest (or given) version of `session/name`, from a HEAD of its bytes.
   * Throws CairnApiError (404) if there is none.
   */
  async artifactIdOf(session: string, name: string, version?: number): Promise<string> {
    const res = await this.request(
      'HEAD',
      `${artifactPath(session, name)}${version ? `?version=${version}` : ''}`,
    );
    res.resume();
    return String(res.headers['x-cairn-artifact-id']);
  }

  /** Creates a share link to an artifact (by id) or a whole session; the URL is shown once. */
  share(
    target: { artifactId: string } | { session: string },
    opts: { ttl?: string; maxDownloads?: number } = {},
  ): Promise<ShareCreated> {
    const path =
      'artifactId' in target
        ? `/v1/artifacts/${encodeURIComponent(target.artifactId)}/share`
        : `/v1/sessions/${encodeURIComponent(target.session)}/share`;
    return this.json('POST', path, { ttl: opts.ttl, max_downloads: opts.maxDownloads });
  }

  /** Every share link (never the secrets), newest first. */
  async shares(): Promise<ShareInfo[]> {
    return (await this.json<{ items: ShareInfo[] }>('GET', '/v1/shares')).items;
  }

  /** Revokes a share link; its URL answers 410 from then on. */
  unshare(id: string): Promise<ShareInfo> {
    return this.json('DELETE', `/v1/shares/${encodeURIComponent(id)}`);
  }

  /** Pins (or with `false` unpins) a session: pinned, it never expires. */
  pin(session: string, pinned = true): Promise<SessionRecord> {
    return this.json(pinned ? 'PUT' : 'DELETE', `/v1/sessions/${encodeURIComponent(session)}/pin`);
  }

  /** Runs garbage collection now, or with `dryRun` reports what it would remove and free. */
  gc(opts: { dryRun?: boolean } = {}): Promise<GcResult> {
    return this.json('POST', `/v1/gc${opts.dryRun ? '?dry_run=true' : ''}`);
  }

  /** Deletes an open session with all its artifacts. */
  deleteSession(id: string): Promise<{ id: string; artifacts_deleted: number }> {
    return this.json('DELETE', `/v1/sessions/${encodeURIComponent(id)}`);
  }
}

/** `/v1/sessions/{sid}/artifacts/{name}` with each segment percent-encoded. */
export function artifactPath(session: string, name: string): string {
  return `/v1/sessions/${encodeURIComponent(session)}/artifacts/${name.split('/').map(encodeURIComponent).join('/')}`;
}

function pushQuery(opts: PushOptions): URLSearchParams {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(opts.meta ?? {})) p.append(`meta.${k}`, v);
  if (opts.ttl) p.set('ttl', opts.ttl);
  for (const id of opts.derivedFrom ?? []) p.append('derived_from', id);
  return p;
}

/** Reads a whole (small) response body. */
export async function readAll(res: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

function toError(status: number, buf: Buffer): CairnApiError {
  try {
    const e = (JSON.parse(buf.toString('utf8')) as { error: { code: string; message: string } })
      .error;
    return new CairnApiError(status, e.code, e.message);
  } catch {
    return new CairnApiError(status, `http_${status}`, `HTTP ${status}`);
  }
}

/** sha256 (hex) of a file, streamed. */
export async function hashFile(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const c of createReadStream(path, { highWaterMark: 1024 * 1024 }))
    h.update(c as Buffer);
  return h.digest('hex');
}
