/**
 * The only way the page builds DOM: elements and text nodes, never HTML strings. Anything that
 * came from the server (names, metadata, content) ends up in a text node or an attribute value,
 * so it can never become markup or script. The page's Trusted Types CSP enforces this: any
 * `innerHTML`-style sink throws.
 */

/** What `h` accepts as a child. Falsy values are skipped; arrays are flattened. */
export type Child = Node | string | number | null | undefined | false | Child[];

/** Attributes; functions under `on…` keys become event listeners. */
export type Attrs = Record<
  string,
  string | number | boolean | null | undefined | ((ev: Event) => void)
>;

/** Creates an element with attributes and children. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs?: Attrs | null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (attrs) setAttrs(el, attrs);
  append(el, children);
  return el;
}

/** Sets attributes on an element (see `Attrs`). */
export function setAttrs(el: Element, attrs: Attrs): void {
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (typeof value === 'function') {
      if (!key.startsWith('on')) throw new Error(`listener for a non-event attribute ${key}`);
      el.addEventListener(key.slice(2), value);
      continue;
    }
    // Event handler attributes take code as text: never from data.
    if (key.startsWith('on')) throw new Error(`string value for event attribute ${key}`);
    if (key === 'class') el.setAttribute('class', String(value));
    else el.setAttribute(key, value === true ? '' : String(value));
  }
}

/** Appends children (text for strings and numbers). */
export function append(parent: Node, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(parent, c);
    else if (c instanceof Node) parent.appendChild(c);
    else parent.appendChild(document.createTextNode(String(c)));
  }
}

/** Replaces all children of `parent`. */
export function replace(parent: Node, ...children: Child[]): void {
  while (parent.firstChild) parent.removeChild(parent.firstChild);
  append(parent, children);
}

/** An in-app link (`/ui/…`), handled by the router without a page load. */
export function link(href: string, ...children: Child[]): HTMLAnchorElement {
  return h('a', { href, 'data-nav': true }, ...children);
}

/** A button. */
export function button(
  label: Child,
  onClick: (ev: Event) => void,
  attrs: Attrs = {},
): HTMLButtonElement {
  return h('button', { type: 'button', ...attrs, onclick: onClick }, label);
}
