import http from 'node:http';
import { randomUUID } from 'node:crypto';
import type { ArtifactaErrorBody } from '../../src/server/artifacta/artifacta-errors.js';
import type { ArtifactaRecord } from '../../src/server/artifacta/artifacta-record.js';

/** An artifact record as the spec has it (plus Cairn's extra `cairn_id`, `version`). */
export type Rec = ArtifactaRecord;

/** Every field an answer of the spec can have (each endpoint fills its own). */
export interface Reply extends Partial<Rec> {
  error?: ArtifactaErrorBody['error'];
  artifacts?: Rec[];
  sessions?: {
    session_id: string;
    artifact_count: number;
    is_sealed: boolean;
    first_artifact_at: string | null;
    last_artifact_at: string | null;
  }[];
  next_cursor?: string | null;
  has_more?: boolean;
  download_url?: string;
  expires_in?: number;
  deleted?: boolean;
  deleted_at?: string;
  link_id?: string;
  url?: string;
  status?: string;
  upload_url?: string;
  upload_expires_at?: string;
  upload_method?: string;
  upload_headers?: Record<string, string>;
  page_id?: string | null;
  public_url?: string;
  visibility?: string;
  access?: string;
  unpublished?: boolean;
  sealed_at?: string;
  artifact_count?: number;
  [key: string]: unknown;
}

/**
 * A client of Artifacta's REST API written from the wire contract (shared/ARTIFACTA-API.md),
 * doing what its TypeScript client does: only the origin of the API URL is kept, every request
 * carries `Content-Type: application/json` (GET, DELETE and body-less POSTs included), keys must
 * be `ak_live_` + 32 alphanumerics, multipart uploads are streamed chunked without a
 * Content-Length with `metadata` as a JSON string, and download URLs are fetched without
 * Authorization.
 */
export class ArtifactaClient {
  readonly origin: string;

  constructor(
    apiUrl: string,
    private readonly key: string,
  ) {
    if (!/^ak_live_[A-Za-z0-9]{32}$/.test(key)) throw new Error('invalid API key shape');
    this.origin = new URL(apiUrl).origin;
  }

  /** One call: `{status, body, headers}` (body parsed as JSON when it is). */
  async call(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; body: Reply; headers: Headers }> {
    const res = await fetch(this.origin + path, {
      method,
      headers: {
        Authorization: `Bearer ${this.key}`,
        'Content-Type': 'application/json',
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: Reply = { text };
    try {
      parsed = JSON.parse(text) as Reply;
    } catch {
      // Not JSON: kept as `text`.
    }
    return { status: res.status, body: parsed, headers: res.headers };
  }

  whoami() {
    return this.call('GET', '/v1/whoami');
  }

  /** JSON/base64 upload, with an Idempotency-Key like the MCP server's `mcp_<uuid>`. */
  store(fields: Record<string, unknown> & { content: Buffer | string }, idempotencyKey?: string) {
    const { content, ...rest } = fields;
    return this.call(
      'POST',
      '/v1/artifacts',
      { ...rest, content: Buffer.from(content).toString('base64'), content_encoding: 'base64' },
      { 'Idempotency-Key': idempotencyKey ?? `mcp_${randomUUID()}` },
    );
  }

  /**
   * Multipart upload as the clients stream it: chunked (no Content-Length), fields in the
   * clients' order, `metadata` a JSON string, then `file` whose own Content-Type is
   * `application/octet-stream`. `chunks` are written one by one.
   */
  storeMultipart(
    fields: {
      filename?: string;
      content_type?: string;
      session_id?: string;
      agent_id?: string;
      ttl?: string;
      metadata?: Record<string, string>;
    },
    chunks: Buffer[],
    idempotencyKey?: string,
  ): Promise<{
    status: number;
    body: Reply;
    headers: http.IncomingHttpHeaders;
    /** The body went chunked, without a Content-Length (as the clients stream it). */
    chunked: boolean;
  }> {
    const boundary = `----artifacta${randomUUID()}`;
    const url = new URL(`${this.origin}/v1/artifacts`);
    let chunked = false;
    return new Promise((resolve, reject) => {
      const req = http.request(url, {
        method: 'POST',
        headers: {
          Authorization: `Bearer ${this.key}`,
          'Content-Type': `multipart/form-data; boundary=${boundary}`,
          ...(idempotencyKey ? { 'Idempotency-Key': idempotencyKey } : {}),
        },
      });
      req.on('response', (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: JSON.parse(text) as Reply,
            chunked,
            headers: res.headers,
          }),
        );
      });
      req.on('error', reject);
      const field = (name: string, value: string) =>
        req.write(
          `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`,
        );
      for (const k of ['filename', 'content_type', 'session_id', 'agent_id', 'ttl'] as const)
        if (fields[k] !== undefined) field(k, fields[k]);
      if (fields.metadata) field('metadata', JSON.stringify(fields.metadata));
      req.write(
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${fields.filename ?? 'file'}"\r\nContent-Type: application/octet-stream\r\n\r\n`,
      );
      for (const c of chunks) req.write(c);
      chunked = req.chunkedEncoding && !req.hasHeader('content-length');
      req.end(`\r\n--${boundary}--\r\n`);
    });
  }

  list(query: Record<string, string> = {}) {
    return this.call('GET', `/v1/artifacts?${new URLSearchParams(query).toString()}`);
  }

  get(id: string) {
    return this.call('GET', `/v1/artifacts/${id}`);
  }

  downloadUrl(id: string) {
    return this.call('GET', `/v1/artifacts/${id}/download-url`);
  }

  /** Fetches a download URL as the clients do: no Authorization header. */
  async download(url: string): Promise<{ status: number; bytes: Buffer; headers: Headers }> {
    const res = await fetch(url);
    return {
      status: res.status,
      bytes: Buffer.from(await res.arrayBuffer()),
      headers: res.headers,
    };
  }

  /** DELETE; a 410 `artifact_already_deleted` counts as success, as in the clients. */
  async delete(id: string) {
    const r = await this.call('DELETE', `/v1/artifacts/${id}`);
    return { ...r, ok: r.status === 200 || r.body?.error?.code === 'artifact_already_deleted' };
  }

  link(id: string, expiresIn?: number) {
    return this.call(
      'POST',
      `/v1/artifacts/${id}/links`,
      expiresIn === undefined ? undefined : { expires_in: expiresIn },
    );
  }

  uploadUrl(body: Record<string, unknown>) {
    return this.call('POST', '/v1/artifacts/upload-url', body);
  }

  complete(id: string) {
    return this.call('POST', `/v1/artifacts/${id}/complete`);
  }

  publish(id: string, body: Record<string, unknown> = { visibility: 'unlisted', access: 'none' }) {
    return this.call('POST', `/v1/artifacts/${id}/publish`, body);
  }

  unpublish(id: string) {
    return this.call('DELETE', `/v1/artifacts/${id}/publish`);
  }

  sessions(query: Record<string, string> = {}) {
    return this.call('GET', `/v1/sessions?${new URLSearchParams(query).toString()}`);
  }

  seal(id: string) {
    return this.call('POST', `/v1/sessions/${id}/seal`);
  }

  extendTtl(id: string, ttl: string) {
    return this.call('POST', `/v1/artifacts/${id}/extend-ttl`, { ttl });
  }
}
