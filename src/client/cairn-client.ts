import type { FileHandle } from 'node:fs/promises';
import type http from 'node:http';
import { Readable } from 'node:stream';
import type { ArtifactRecord, Page, SessionRecord, TokenRecord } from '../core/types.js';
import type {
  ArtifactQueryParams,
  ClientOptions,
  GcResult,
  PushOptions,
  ShareCreated,
  ShareInfo,
} from './client-types.js';
import { CairnApiError, readAll, sendRequest, type RequestBody } from './send-request.js';
import { artifactPath, segment } from './url-path.js';
import { readLatestLines } from './latest-lines.js';
import {
  blobExists,
  pushBytes,
  pushLocalFile,
  type PushedArtifact,
  type Send,
} from './push-requests.js';

export type * from './client-types.js';
export { CairnApiError, readAll } from './send-request.js';
export { hashFile } from './hash-file.js';
export { artifactPath } from './url-path.js';

/**
 * TypeScript client for the Cairn HTTP API (what the CLI and MCP server use). Streams in both
 * directions. Every method throws CairnApiError with the server's code and message on failure.
 */
export class CairnClient {
  readonly url: string;
  private readonly token?: string;
  private readonly noTokenHint?: string;

  constructor(opts: ClientOptions = {}) {
    this.url = (opts.url ?? 'http://127.0.0.1:7070').replace(/\/+$/, '');
    this.token = opts.token || undefined;
    this.noTokenHint = opts.noTokenHint;
  }

  /**
   * Low-level request; resolves with the response (status < 400) without reading its body.
   * Rejects with CairnApiError as described for {@link sendRequest}.
   */
  request(
    method: string,
    path: string,
    opts: { body?: RequestBody; headers?: Record<string, string | number> } = {},
  ): Promise<http.IncomingMessage> {
    return sendRequest(
      { url: this.url, token: this.token, noTokenHint: this.noTokenHint },
      method,
      path,
      opts,
    );
  }

  /** {@link request}, bound: what the push functions send with. */
  private readonly send: Send = (method, path, opts) => this.request(method, path, opts);

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

  /** Pushes bytes (a Buffer, string or stream) as `session/name` (see {@link pushBytes}). */
  push(
    session: string,
    name: string,
    body: string | Buffer | Readable,
    opts: PushOptions = {},
  ): Promise<PushedArtifact> {
    return pushBytes(this.send, session, name, body, opts);
  }

  /**
   * Pushes a local file: hashes it first, then skips the upload (push by reference) when the
   * server already holds its bytes; otherwise streams it with a Content-Digest to verify.
   * `path` may be a file already open (both passes read it from its start; it stays open).
   */
  pushFile(
    session: string,
    name: string,
    path: string | FileHandle,
    opts: PushOptions = {},
  ): Promise<PushedArtifact> {
    return pushLocalFile(this.send, session, name, path, opts);
  }

  /** True if the server holds bytes with this sha256. */
  hasBlob(sha256: string): Promise<boolean> {
    return blobExists(this.send, sha256);
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
    return this.request('GET', `/v1/artifacts/${segment(id, 'artifact id')}/content`);
  }

  artifact(id: string): Promise<ArtifactRecord> {
    return this.json('GET', `/v1/artifacts/${segment(id, 'artifact id')}`);
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
    return this.json('GET', `/v1/sessions/${segment(id, 'session id')}`);
  }

  /**
   * The sha256 of the latest live version of each name in session `id`
   * (`GET /v1/sessions/{id}/latest`), read line by line as it streams. Throws CairnApiError
   * (404 for an unknown session) or, for an answer cut short, one with code `truncated`.
   */
  async latest(id: string): Promise<Map<string, string>> {
    const res = await this.request('GET', `/v1/sessions/${segment(id, 'session id')}/latest`);
    return readLatestLines(res);
  }

  createSession(
    id: string,
    opts: { meta?: Record<string, string>; ttl?: string } = {},
  ): Promise<SessionRecord> {
    return this.json('POST', '/v1/sessions', { id, ...opts });
  }

  seal(id: string): Promise<SessionRecord> {
    return this.json('POST', `/v1/sessions/${segment(id, 'session id')}/seal`);
  }

  manifest(id: string): Promise<unknown> {
    return this.json('GET', `/v1/sessions/${segment(id, 'session id')}/manifest`);
  }

  deleteArtifact(id: string): Promise<ArtifactRecord> {
    return this.json('DELETE', `/v1/artifacts/${segment(id, 'artifact id')}`);
  }

  createToken(
    scope: string,
    opts: { name?: string; sessions?: string; artifacta?: boolean } = {},
  ): Promise<TokenRecord & { token: string }> {
    return this.json('POST', '/v1/tokens', { scope, ...opts });
  }

  async tokens(): Promise<TokenRecord[]> {
    return (await this.json<{ items: TokenRecord[] }>('GET', '/v1/tokens')).items;
  }

  revokeToken(id: string): Promise<unknown> {
    return this.json('DELETE', `/v1/tokens/${segment(id, 'token id')}`);
  }

  /**
   * The id of the latest (or given) version of `session/name`, from a HEAD of its bytes.
   * Throws CairnApiError (404) if there is none, with the server's message: a HEAD answer has
   * no body, so a refused HEAD is asked again as a GET of one byte, whose error says why.
   */
  async artifactIdOf(session: string, name: string, version?: number): Promise<string> {
    const path = `${artifactPath(session, name)}${version ? `?version=${version}` : ''}`;
    let res: http.IncomingMessage;
    try {
      res = await this.request('HEAD', path);
    } catch (err) {
      if (!(err instanceof CairnApiError) || err.status >= 500) throw err;
      res = await this.request('GET', path, { headers: { Range: 'bytes=0-0' } });
    }
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
        ? `/v1/artifacts/${segment(target.artifactId, 'artifact id')}/share`
        : `/v1/sessions/${segment(target.session, 'session id')}/share`;
    return this.json('POST', path, { ttl: opts.ttl, max_downloads: opts.maxDownloads });
  }

  /** Every share link (never the secrets), newest first. */
  async shares(): Promise<ShareInfo[]> {
    return (await this.json<{ items: ShareInfo[] }>('GET', '/v1/shares')).items;
  }

  /** Revokes a share link; its URL answers 410 from then on. */
  unshare(id: string): Promise<ShareInfo> {
    return this.json('DELETE', `/v1/shares/${segment(id, 'share id')}`);
  }

  /** Pins (or with `false` unpins) a session: pinned, it never expires. */
  pin(session: string, pinned = true): Promise<SessionRecord> {
    return this.json(
      pinned ? 'PUT' : 'DELETE',
      `/v1/sessions/${segment(session, 'session id')}/pin`,
    );
  }

  /** Runs garbage collection now, or with `dryRun` reports what it would remove and free. */
  gc(opts: { dryRun?: boolean } = {}): Promise<GcResult> {
    return this.json('POST', `/v1/gc${opts.dryRun ? '?dry_run=true' : ''}`);
  }

  /** Deletes an open session with all its artifacts. */
  deleteSession(id: string): Promise<{ id: string; artifacts_deleted: number }> {
    return this.json('DELETE', `/v1/sessions/${segment(id, 'session id')}`);
  }
}
