/**
 * Client-side routes under /ui/… (History API). Each view is an async function that returns its
 * content; a newer navigation wins over a slower older one.
 */
import { ApiError, clearToken, getToken, setUnauthorizedHandler } from './api.js';
import { h, replace } from './dom.js';
import { layout } from './layout.js';
import { artifactView } from './views/artifact-view.js';
import { sessionView } from './views/session-view.js';
import { sessionsView } from './views/sessions-view.js';
import { signInView } from './views/sign-in-view.js';

/** What a view gets: decoded path parameters and the query string. */
export interface ViewContext {
  params: string[];
  query: URLSearchParams;
}

type View = (ctx: ViewContext) => Promise<Node>;

const ROUTES: [RegExp, View][] = [
  [/^\/ui\/sessions\/?$/, sessionsView],
  [/^\/ui\/sessions\/([^/]+)$/, sessionView],
  [/^\/ui\/artifacts\/([^/]+)$/, artifactView],
];

let generation = 0;

/** Goes to an in-app URL without a page load. */
export function navigate(href: string, replaceState = false): void {
  if (replaceState) history.replaceState(null, '', href);
  else history.pushState(null, '', href);
  void render();
}

/** Renders the view for the current location (or the sign-in form). */
export async function render(): Promise<void> {
  const gen = ++generation;
  const root = document.getElementById('app') as HTMLElement;
  if (!getToken()) {
    replace(
      root,
      signInView(() => void render()),
    );
    return;
  }
  const path = location.pathname;
  if (path === '/' || path === '/ui' || path === '/ui/') {
    navigate('/ui/sessions', true);
    return;
  }
  const main = h(
    'main',
    { id: 'main', 'aria-busy': 'true' },
    h('p', { class: 'loading' }, 'Loading…'),
  );
  replace(root, layout(signOut), main);
  let content: Node;
  try {
    const match = ROUTES.map(([re, view]) => [re.exec(path), view] as const).find(([m]) => m);
    if (!match) throw new ApiError(404, 'not_found', `no page at ${path}`);
    const [m, view] = match;
    const params = (m as RegExpExecArray).slice(1).map(decodeURIComponent);
    content = await view({ params, query: new URLSearchParams(location.search) });
  } catch (e) {
    content = errorPanel(e);
  }
  if (gen !== generation) return;
  main.removeAttribute('aria-busy');
  replace(main, content);
  if (location.hash) document.getElementById(location.hash.slice(1))?.scrollIntoView();
  const title = main.querySelector('h1')?.textContent;
  document.title = title ? `${title} · Cairn` : 'Cairn';
}

/** A readable error box for a failed load. */
export function errorPanel(e: unknown): HTMLElement {
  const msg = e instanceof Error ? e.message : String(e);
  const code = e instanceof ApiError ? e.code : 'error';
  return h(
    'div',
    { class: 'error-panel', role: 'alert' },
    h('strong', null, code === 'not_found' ? 'Not found' : 'Something went wrong'),
    h('p', null, msg),
    h('p', null, h('a', { href: '/ui/sessions', 'data-nav': true }, '← All sessions')),
  );
}

function signOut(): void {
  clearToken();
  history.pushState(null, '', '/ui/sessions');
  void render();
}

/** Wires links, history and 401 handling; call once. */
export function startRouter(): void {
  setUnauthorizedHandler(() => {
    clearToken();
    void render();
  });
  document.addEventListener('click', (ev) => {
    const a = (ev.target as Element | null)?.closest?.('a[data-nav]');
    if (!a || !(a instanceof HTMLAnchorElement)) return;
    if (ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey) return;
    if (a.origin !== location.origin) return;
    ev.preventDefault();
    navigate(a.pathname + a.search + a.hash);
  });
  window.addEventListener('popstate', () => void render());
  void render();
}
