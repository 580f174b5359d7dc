/**
 * The page's only door to the data: the public /v1 API with the user's bearer token. The token
 * lives in sessionStorage (this tab only) and travels only in the Authorization header, never in
 * a URL.
 */
import type { ArtifactRecord, Page, SessionRecord } from './types.js';

const KEY = 'cairn.token';

/** An error answer of the API (`{error: {code, message}}`) or a network failure. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The token of this tab, or null when signed out. */
export function getToken(): string | null {
  return sessionStorage.getItem(KEY);
}

/** Stores the token for this tab. */
export function setToken(token: string): void {
  sessionStorage.setItem(KEY, token);
}

/** Forgets the token. */
export function clearToken(): void {
  sessionStorage.removeItem(KEY);
}

let onUnauthorized: () => void = () => {};

/** Called when the API answers 401 (the token was revoked or is wrong). */
export function setUnauthorizedHandler(fn: () => void): void {
  onUnauthorized = fn;
}

/** `/v1/sessions/a b` → `/v1/sessions/a%20b`: every segment encoded, slashes kept in names. */
export function apiPath(...segments: string[]): string {
  return segments.map((s) => s.split('/').map(encodeURIComponent).join('/')).join('/');
}

/** fetch with the bearer token; throws ApiError for non-2xx answers. */
export async function request(
  path: string,
  init: RequestInit = {},
  token = getToken(),
): Promise<Response> {
  const headers = new Headers(init.headers);
  if (token) headers.set('Authorization', `Bearer ${token}`);
  let res: Response;
  try {
    res = await fetch(path, { ...init, headers, credentials: 'omit', cache: 'no-store' });
  } catch {
    throw new ApiError(0, 'network', 'the server cannot be reached; is cairn serve running?');
  }
  if (res.ok || res.status === 304) return res;
  let code = 'http_error';
  let message = `${res.status} ${res.statusText}`;
  try {
    const body = (await res.json()) as { error?: { code?: string; message?: string } };
    code = body.error?.code ?? code;
    message = body.error?.message ?? message;
  } catch {
    // Not a JSON envelope: keep the status line.
  }
  if (res.status === 401 && token === getToken()) onUnauthorized();
  throw new ApiError(res.status, code, message);
}

/** GET (or another method with a JSON body) and parse the JSON answer. */
export async function api<T>(path: string, method = 'GET', body?: unknown): Promise<T> {
  const init: RequestInit = { method };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers = { 'Content-Type': 'application/json' };
  }
  return (await (await request(path, init)).json()) as T;
}

/** Checks a token before keeping it: true if the server accepts it. */
export async function tokenWorks(token: string): Promise<boolean> {
  try {
    await request('/v1/sessions?limit=1', {}, token);
    return true;
  } catch (e) {
    if (e instanceof ApiError && (e.status === 401 || e.status === 403)) return false;
    throw e;
  }
}

/** Bytes `[start, end)` of an artifact's content, and its total size. */
export async function fetchRange(
  id: string,
  start: number,
  end: number,
): Promise<{ bytes: Uint8Array; total: number }> {
  const res = await request(apiPath('/v1/artifacts', id, 'content'), {
    headers: { Range: `bytes=${start}-${end - 1}` },
  });
  const bytes = new Uint8Array(await res.arrayBuffer());
  const cr = res.headers.get('Content-Range');
  const total = cr ? Number(cr.split('/')[1]) : bytes.length;
  return { bytes, total };
}

/** The whole content of an artifact as a Blob. */
export async function fetchBlob(id: string): Promise<Blob> {
  return (await request(apiPath('/v1/artifacts', id, 'content'))).blob();
}

/** Typed shortcuts for the routes the page uses. */
export const cairn = {
  sessions: (params: URLSearchParams) =>
    api<Page<SessionRecord>>(`/v1/sessions?${params.toString()}`),
  session: (sid: string) =>
    api<SessionRecord & { artifacts: ArtifactRecord[] }>(apiPath('/v1/sessions', sid)),
  artifact: (id: string) => api<ArtifactRecord>(apiPath('/v1/artifacts', id)),
  artifacts: (params: URLSearchParams) =>
    api<Page<ArtifactRecord>>(`/v1/artifacts?${params.toString()}`),
  seal: (sid: string) => api<SessionRecord>(apiPath('/v1/sessions', sid, 'seal'), 'POST', {}),
};
