/**
 * Inline Markdown (code spans, emphasis, strikethrough, links, autolinks) to DOM nodes. Raw HTML
 * stays text; links keep only http(s), mailto and in-page targets; images become links and are
 * never loaded.
 */
import { h, type Child } from '../dom.js';

/** Only these link targets are kept; anything else (javascript:, data:, …) becomes plain text. */
export function safeHref(url: string): string | null {
  const u = url.trim();
  if (u.startsWith('#')) return u;
  try {
    const parsed = new URL(u);
    return ['http:', 'https:', 'mailto:'].includes(parsed.protocol) ? parsed.href : null;
  } catch {
    return null;
  }
}

function anchor(href: string | null, label: Child, title?: string): Node {
  if (!href)
    return h(
      'span',
      { class: 'md-badlink', title: 'link removed: only http(s) and mailto links are kept' },
      label,
    );
  const external = !href.startsWith('#');
  return h(
    'a',
    {
      href,
      title,
      rel: external ? 'noopener noreferrer nofollow' : null,
      target: external ? '_blank' : null,
    },
    label,
  );
}

/** Parses `[label](url "title")` at `i` (which is '['). */
function linkAt(
  src: string,
  i: number,
): { label: string; url: string; title?: string; end: number } | null {
  let depth = 0;
  let j = i;
  for (; j < src.length; j++) {
    if (src[j] === '\\') j++;
    else if (src[j] === '[') depth++;
    else if (src[j] === ']' && --depth === 0) break;
  }
  if (j >= src.length || src[j + 1] !== '(') return null;
  const m = /^\(\s*<?([^\s()<>]*(?:\([^\s()]*\)[^\s()<>]*)*)>?(?:\s+"([^"]*)")?\s*\)/.exec(
    src.slice(j + 1),
  );
  if (!m) return null;
  return { label: src.slice(i + 1, j), url: m[1], title: m[2], end: j + 1 + m[0].length };
}

/** Inline Markdown to nodes. */
export function inline(src: string): Node[] {
  const out: Node[] = [];
  let buf = '';
  const flush = () => {
    if (buf) out.push(document.createTextNode(buf));
    buf = '';
  };
  for (let i = 0; i < src.length;) {
    const c = src[i];
    const rest = src.slice(i);
    let m: RegExpExecArray | null;
    if (c === '\\' && i + 1 < src.length && /[!-/:-@[-`{-~]/.test(src[i + 1])) {
      buf += src[i + 1];
      i += 2;
      continue;
    }
    if (c === '\\' && src[i + 1] === '\n') {
      flush();
      out.push(h('br'));
      i += 2;
      continue;
    }
    if (c === '`' && (m = /^(`+)([\s\S]*?[^`])\1(?!`)/.exec(rest))) {
      flush();
      out.push(h('code', null, m[2].replace(/\n/g, ' ').replace(/^ (.*) $/, '$1')));
      i += m[0].length;
      continue;
    }
    if (c === '[' || (c === '!' && src[i + 1] === '[')) {
      const l = linkAt(src, c === '!' ? i + 1 : i);
      if (l) {
        flush();
        if (c === '!')
          out.push(
            anchor(safeHref(l.url), ['🖼 ', l.label || 'image'], l.title ?? 'image (not loaded)'),
          );
        else out.push(anchor(safeHref(l.url), inline(l.label), l.title));
        i = l.end;
        continue;
      }
    }
    if (c === '<' && (m = /^<((?:https?:\/\/|mailto:)[^\s<>]+)>/.exec(rest))) {
      flush();
      out.push(anchor(safeHref(m[1]), m[1].replace(/^mailto:/, '')));
      i += m[0].length;
      continue;
    }
    if (
      c === 'h' &&
      !/\w$/.test(buf) &&
      (m = /^https?:\/\/[^\s<]*[^\s<.,;:!?)\]'"*_]/.exec(rest))
    ) {
      flush();
      out.push(anchor(safeHref(m[0]), m[0]));
      i += m[0].length;
      continue;
    }
    if (c === '~' && (m = /^~~(?=\S)([\s\S]*?\S)~~/.exec(rest))) {
      flush();
      out.push(h('del', null, inline(m[1])));
      i += m[0].length;
      continue;
    }
    if ((c === '*' || c === '_') && !(c === '_' && /\w$/.test(buf))) {
      const d = c === '*' ? '\\*' : '_';
      m =
        new RegExp(`^(${d}{2})(?=\\S)([\\s\\S]*?\\S)${d}{2}(?!${d})`).exec(rest) ??
        new RegExp(
          `^(${d})(?=[^\\s${d}])([\\s\\S]*?[^\\s${d}])${d}(?!${d}|${c === '_' ? '\\w' : '$^'})`,
        ).exec(rest);
      if (m) {
        flush();
        out.push(h(m[1].length === 2 ? 'strong' : 'em', null, inline(m[2])));
        i += m[0].length;
        continue;
      }
    }
    if (c === '\n') {
      if (buf.endsWith('  ')) {
        buf = buf.trimEnd();
        flush();
        out.push(h('br'));
      } else buf += '\n';
      i++;
      continue;
    }
    buf += c;
    i++;
  }
  flush();
  return out;
}
