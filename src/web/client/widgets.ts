/** Small shared pieces: metadata chips, badges, copy buttons, downloads. */
import { button, h } from './dom.js';
import { formatTime, relativeTime } from './format.js';

/** `key=value` chips for metadata. */
export function metaChips(meta: Record<string, string>): HTMLElement {
  const keys = Object.keys(meta).sort();
  return h(
    'span',
    { class: 'chips' },
    keys.map((k) =>
      h(
        'span',
        { class: 'chip', title: `${k}=${meta[k]}` },
        h('span', { class: 'chip-k' }, k),
        h('span', { class: 'chip-v' }, meta[k]),
      ),
    ),
  );
}

/** A small coloured label. */
export function badge(
  text: string,
  kind: 'sealed' | 'open' | 'pinned' | 'info' | 'warn',
): HTMLElement {
  return h('span', { class: `badge badge-${kind}` }, text);
}

/** A time cell: absolute time, relative time as a tooltip. */
export function timeCell(iso: string | null | undefined): HTMLElement {
  if (!iso) return h('span', { class: 'muted' }, '—');
  return h('time', { datetime: iso, title: relativeTime(iso) }, formatTime(iso));
}

/** Copies text to the clipboard (falls back to a selected input where the API is missing). */
export async function copyText(text: string): Promise<boolean> {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    // Fall through to the selection method.
  }
  const ta = h('textarea', { class: 'offscreen', readonly: true });
  ta.value = text;
  document.body.appendChild(ta);
  ta.select();
  let ok = false;
  try {
    ok = document.execCommand('copy');
  } catch {
    ok = false;
  }
  ta.remove();
  return ok;
}

/** A button that copies `text` and says so. */
export function copyButton(text: string, label = 'Copy', cls = 'small'): HTMLButtonElement {
  const b = button(
    label,
    () => {
      void copyText(text).then((ok) => {
        b.textContent = ok ? 'Copied' : 'Select and copy';
        setTimeout(() => (b.textContent = label), 1500);
      });
    },
    { class: cls, title: 'Copy to clipboard' },
  );
  return b;
}

/** Saves a Blob under a file name (the bytes were fetched with the token; no URL carries it). */
export function saveBlob(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const a = h('a', { href: url, download: filename, class: 'offscreen' });
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** A labelled key/value list. */
export function facts(rows: [string, Node | string][]): HTMLElement {
  return h(
    'dl',
    { class: 'facts' },
    rows.map(([k, v]) => [h('dt', null, k), h('dd', null, v)]),
  );
}

/** Shows a short message at the bottom of the window (errors of button actions). */
export function toast(message: string, kind: 'error' | 'info' = 'error'): void {
  document.querySelector('.toast')?.remove();
  const el = h('div', { class: `toast toast-${kind}`, role: 'alert', id: 'toast' }, message);
  document.body.appendChild(el);
  setTimeout(() => el.remove(), 8000);
}
