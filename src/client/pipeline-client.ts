import type http from 'node:http';
import type { Readable } from 'node:stream';
import type { Lineage } from '../core/lineage.js';
import type { PublicKeyInfo } from '../core/signer.js';
import type { SessionRecord } from '../core/types.js';
import { readAll, type CairnClient } from './cairn-client.js';
import { segment } from './url-path.js';

/** The answer of a wait: the session (if it exists) and whether it is sealed. */
export type WaitResult = Partial<SessionRecord> & {
  id: string;
  sealed: boolean;
  timed_out: boolean;
  /** false when the wait timed out on a session that does not exist (yet). */
  exists?: boolean;
};

/** Longest single long-poll the client asks for; longer waits are a loop of these. */
const POLL_MS = 300_000;

/**
 * Waits until `session` is sealed or `timeoutMs` passed (long-polls, re-asking when the server
 * caps a wait). Works when the session does not exist yet.
 */
export async function waitSealed(
  client: CairnClient,
  session: string,
  timeoutMs: number,
): Promise<WaitResult> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = Math.max(0, deadline - Date.now());
    // At least 1 ms: the server refuses a timeout of 0 (a deadline already past by now).
    const ms = Math.max(1, Math.min(left, POLL_MS));
    const r = await client.json<WaitResult>(
      'GET',
      `/v1/sessions/${segment(session, 'session id')}/wait?until=sealed&timeout=${ms}ms`,
    );
    if (r.sealed || Date.now() >= deadline - 50) return r;
  }
}

/** One event as the server streams it. */
export interface StreamedEvent {
  id: number;
  type: string;
  session: string;
  at: string;
  data: unknown;
}

/** What {@link streamEvents} yields: an event, or notice that some were missed. */
export type EventMessage = { kind: 'event'; event: StreamedEvent } | { kind: 'gap'; after: number };

/**
 * Reads `GET /v1/events` as an async iterable (Server-Sent Events parsed line by line).
 * `lastEventId` resumes after that id. `onId` sees every id the server sends (also the
 * initial position), so a caller can resume from it after a disconnect.
 */
export async function* streamEvents(
  client: CairnClient,
  opts: {
    session?: string;
    types?: string[];
    lastEventId?: string;
    onId?: (id: string) => void;
    signal?: AbortSignal;
  } = {},
): AsyncGenerator<EventMessage> {
  const p = new URLSearchParams();
  if (opts.session) p.set('session', opts.session);
  if (opts.types?.length) p.set('types', opts.types.join(','));
  const headers: Record<string, string> = { Accept: 'text/event-stream' };
  if (opts.lastEventId) headers['Last-Event-ID'] = opts.lastEventId;
  const res = await client.request('GET', `/v1/events${p.size ? `?${p.toString()}` : ''}`, {
    headers,
  });
  const abort = () => res.destroy();
  opts.signal?.addEventListener('abort', abort);
  try {
    let buf = '';
    let ev: { id?: string; event?: string; data: string[] } = { data: [] };
    res.setEncoding('utf8');
    for await (const chunk of res as AsyncIterable<string>) {
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).replace(/\r$/, '');
        buf = buf.slice(nl + 1);
        if (line === '') {
          if (ev.id !== undefined) opts.onId?.(ev.id);
          if (ev.data.length > 0) {
            const data = JSON.parse(ev.data.join('\n')) as StreamedEvent & { after?: number };
            if (ev.event === 'gap') yield { kind: 'gap', after: data.after ?? 0 };
            else yield { kind: 'event', event: data };
          }
          ev = { data: [] };
        } else if (!line.startsWith(':')) {
          const i = line.indexOf(':');
          const field = i < 0 ? line : line.slice(0, i);
          const value = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
          if (field === 'id') ev.id = value;
          else if (field === 'event') ev.event = value;
          else if (field === 'data') ev.data.push(value);
        }
      }
    }
  } finally {
    opts.signal?.removeEventListener('abort', abort);
    res.destroy();
  }
}

/** Lineage trees of an artifact. */
export function lineage(client: CairnClient, id: string, depth?: number): Promise<Lineage> {
  const q = depth === undefined ? '' : `?depth=${depth}`;
  return client.json<Lineage>('GET', `/v1/artifacts/${segment(id, 'artifact id')}/lineage${q}`);
}

/** Streams a session export tar (the response; read it or pipe it). */
export function exportSession(client: CairnClient, session: string): Promise<http.IncomingMessage> {
  return client.request('GET', `/v1/sessions/${segment(session, 'session id')}/export`);
}

/** What the server says after an import. */
export interface ImportAnswer {
  created: boolean;
  session: SessionRecord;
  artifacts: number;
  bytes: number;
}

/**
 * Uploads an export tar (streamed) and recreates its session on the server, expiring after
 * `ttl` (a duration such as 30d) if given.
 */
export async function importSession(
  client: CairnClient,
  tar: Readable,
  ttl?: string,
): Promise<ImportAnswer> {
  const query = ttl === undefined ? '' : `?${new URLSearchParams({ ttl }).toString()}`;
  const res = await client.request('POST', `/v1/import${query}`, {
    body: tar,
    headers: { 'Content-Type': 'application/x-tar' },
  });
  return JSON.parse((await readAll(res)).toString('utf8')) as ImportAnswer;
}

/** The server's public seal keys. */
export async function serverKeys(client: CairnClient): Promise<PublicKeyInfo[]> {
  return (await client.json<{ keys: PublicKeyInfo[] }>('GET', '/v1/keys')).keys;
}
