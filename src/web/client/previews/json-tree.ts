/**
 * JSON as a collapsible tree (<details>/<summary>, so keyboard and screen readers work without
 * script). Children are built when a node is first opened, so large documents stay fast.
 */
import { h } from '../dom.js';

/** How many levels start open. */
const OPEN_DEPTH = 2;
/** Children shown per node before a "show more" button. */
const PAGE = 500;

/** The tree for a parsed JSON value. */
export function jsonTree(value: unknown): HTMLElement {
  return h('div', { class: 'json-tree', id: 'json-tree' }, node(null, value, 0));
}

function scalar(v: unknown): HTMLElement {
  if (v === null) return h('span', { class: 'j-null' }, 'null');
  if (typeof v === 'string') return h('span', { class: 'j-str' }, JSON.stringify(v));
  if (typeof v === 'number') return h('span', { class: 'j-num' }, String(v));
  return h('span', { class: 'j-bool' }, v === true ? 'true' : 'false');
}

function keyLabel(key: string | number | null): HTMLElement | null {
  if (key === null) return null;
  return h(
    'span',
    { class: typeof key === 'number' ? 'j-idx' : 'j-key' },
    typeof key === 'number' ? `${key}` : JSON.stringify(key),
    ': ',
  );
}

function node(key: string | number | null, v: unknown, depth: number): HTMLElement {
  if (v === null || typeof v !== 'object')
    return h('div', { class: 'j-leaf' }, keyLabel(key), scalar(v));
  const entries: [string | number, unknown][] = Array.isArray(v)
    ? v.map((x, i) => [i, x])
    : Object.entries(v as Record<string, unknown>);
  const [open, close] = Array.isArray(v) ? ['[', ']'] : ['{', '}'];
  if (entries.length === 0)
    return h(
      'div',
      { class: 'j-leaf' },
      keyLabel(key),
      h('span', { class: 'j-punct' }, open + close),
    );
  const summary = h(
    'summary',
    null,
    keyLabel(key),
    h('span', { class: 'j-punct' }, open),
    h(
      'span',
      { class: 'j-count' },
      ` ${entries.length} ${Array.isArray(v) ? (entries.length === 1 ? 'item' : 'items') : entries.length === 1 ? 'key' : 'keys'} `,
    ),
    h('span', { class: 'j-punct j-close-inline' }, close),
  );
  const details = h('details', { class: 'j-node' }, summary);
  const kids = h('div', { class: 'j-kids' });
  let built = 0;
  const build = () => {
    const end = Math.min(entries.length, built + PAGE);
    const frag = document.createDocumentFragment();
    for (; built < end; built++)
      frag.appendChild(node(entries[built][0], entries[built][1], depth + 1));
    kids.appendChild(frag);
    if (built < entries.length) {
      const more = h(
        'button',
        { type: 'button', class: 'small' },
        `Show ${Math.min(PAGE, entries.length - built)} more of ${entries.length - built}`,
      );
      more.addEventListener('click', () => {
        more.remove();
        build();
      });
      kids.appendChild(more);
    }
  };
  details.addEventListener('toggle', () => {
    if (details.open && built === 0) build();
  });
  details.append(kids, h('div', { class: 'j-punct' }, close));
  if (depth < OPEN_DEPTH) details.open = true;
  return details;
}
