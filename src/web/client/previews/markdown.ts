/**
 * A small Markdown renderer that builds DOM nodes directly (CommonMark's common subset plus GFM
 * tables, strikethrough and task lists). Raw HTML is never interpreted: it shows as text. Links
 * keep only http(s) and mailto targets; images are not loaded (they become links), so a
 * document cannot make the browser fetch anything.
 */
import { h, type Child } from '../dom.js';
import { inline } from './markdown-inline.js';

const FENCE = /^ {0,3}(`{3,}|~{3,})\s*([^`\s]*)[^`]*$/;
const HEADING = /^ {0,3}(#{1,6})(?:\s+(.*?))?(?:\s+#+)?\s*$/;
const HR = /^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$/;
const QUOTE = /^ {0,3}> ?/;
const LIST = /^( *)([-*+]|\d{1,9}[.)])(?: +|$)/;
const TABLE_SEP = /^ *\|? *:?-+:? *(\| *:?-+:? *)*\|? *$/;

/** Renders Markdown text to a fragment of safe elements. */
export function renderMarkdown(text: string): DocumentFragment {
  const frag = document.createDocumentFragment();
  for (const n of blocks(text.replace(/\r\n?/g, '\n').split('\n'))) frag.appendChild(n);
  return frag;
}

const isBlank = (l: string) => l.trim() === '';
const startsBlock = (l: string) =>
  FENCE.test(l) || HEADING.test(l) || HR.test(l) || QUOTE.test(l) || LIST.test(l);

function blocks(lines: string[]): Node[] {
  const out: Node[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    let m: RegExpExecArray | null;
    if (isBlank(line)) {
      i++;
    } else if ((m = FENCE.exec(line))) {
      const fence = m[1];
      const code: string[] = [];
      i++;
      while (i < lines.length && !lines[i].trimStart().startsWith(fence)) code.push(lines[i++]);
      i++;
      out.push(h('pre', null, h('code', m[2] ? { 'data-lang': m[2] } : null, code.join('\n'))));
    } else if ((m = HEADING.exec(line))) {
      const tag = `h${m[1].length}` as 'h1';
      out.push(h(tag, null, inline(m[2] ?? '')));
      i++;
    } else if (HR.test(line)) {
      out.push(h('hr'));
      i++;
    } else if (QUOTE.test(line)) {
      const inner: string[] = [];
      while (
        i < lines.length &&
        !isBlank(lines[i]) &&
        (QUOTE.test(lines[i]) || !startsBlock(lines[i]))
      )
        inner.push(lines[i++].replace(QUOTE, ''));
      out.push(h('blockquote', null, blocks(inner)));
    } else if (LIST.test(line)) {
      const r = list(lines, i);
      out.push(r.node);
      i = r.next;
    } else if (/^( {4}|\t)/.test(line)) {
      const code: string[] = [];
      while (i < lines.length && (/^( {4}|\t)/.test(lines[i]) || isBlank(lines[i])))
        code.push(lines[i++].replace(/^( {4}|\t)/, ''));
      while (code.length && isBlank(code[code.length - 1])) code.pop();
      out.push(h('pre', null, h('code', null, code.join('\n'))));
    } else if (
      line.includes('|') &&
      i + 1 < lines.length &&
      TABLE_SEP.test(lines[i + 1]) &&
      lines[i + 1].includes('-')
    ) {
      const r = table(lines, i);
      out.push(r.node);
      i = r.next;
    } else {
      const para: string[] = [];
      while (
        i < lines.length &&
        !isBlank(lines[i]) &&
        (para.length === 0 || !startsBlock(lines[i]))
      ) {
        if (para.length && /^ {0,3}(=+|-+) *$/.test(lines[i])) {
          out.push(h(lines[i].includes('=') ? 'h1' : 'h2', null, inline(para.join('\n'))));
          para.length = 0;
          i++;
          break;
        }
        para.push(lines[i++]);
      }
      if (para.length) out.push(h('p', null, inline(para.join('\n').trim())));
    }
  }
  return out;
}

function list(lines: string[], start: number): { node: HTMLElement; next: number } {
  const first = LIST.exec(lines[start]) as RegExpExecArray;
  const indent = first[1].length;
  const ordered = /\d/.test(first[2]);
  const items: HTMLElement[] = [];
  let i = start;
  let loose = false;
  while (i < lines.length) {
    const m = LIST.exec(lines[i]);
    if (!m || m[1].length !== indent || /\d/.test(m[2]) !== ordered) break;
    const contentIndent = m[0].length;
    const item = [lines[i].slice(contentIndent)];
    i++;
    while (i < lines.length) {
      const l = lines[i];
      const lead = l.length - l.trimStart().length;
      if (isBlank(l)) {
        let j = i + 1;
        while (j < lines.length && isBlank(lines[j])) j++;
        const nextLead = j < lines.length ? lines[j].length - lines[j].trimStart().length : 0;
        if (j < lines.length && nextLead >= contentIndent) {
          item.push('');
          loose = true;
          i++;
          continue;
        }
        const sib = j < lines.length ? LIST.exec(lines[j]) : null;
        if (sib && sib[1].length === indent) loose = true;
        if (sib && sib[1].length === indent) i = j;
        break;
      }
      if (lead >= contentIndent) item.push(l.slice(contentIndent));
      else if (LIST.test(l) || startsBlock(l)) break;
      else item.push(l.trim());
      i++;
    }
    let task: boolean | null = null;
    const tm = /^\[([ xX])\] +/.exec(item[0]);
    if (tm) {
      task = tm[1] !== ' ';
      item[0] = item[0].slice(tm[0].length);
    }
    const content = blocks(item);
    const kids: Child[] =
      !loose && content[0] instanceof HTMLParagraphElement
        ? [[...content[0].childNodes], content.slice(1)]
        : content;
    items.push(
      h(
        'li',
        task === null ? null : { class: 'task' },
        task === null ? null : h('input', { type: 'checkbox', disabled: true, checked: task }),
        kids,
      ),
    );
  }
  const startNo = ordered ? parseInt(first[2], 10) : 1;
  const node = ordered
    ? h('ol', startNo !== 1 ? { start: startNo } : null, items)
    : h('ul', null, items);
  return { node, next: i };
}

function cells(row: string): string[] {
  const t = row
    .trim()
    .replace(/^\|/, '')
    .replace(/(?<!\\)\|$/, '');
  return t.split(/(?<!\\)\|/).map((c) => c.trim().replace(/\\\|/g, '|'));
}

function table(lines: string[], start: number): { node: HTMLElement; next: number } {
  const head = cells(lines[start]);
  const align = cells(lines[start + 1]).map((c) =>
    c.startsWith(':') && c.endsWith(':') ? 'center' : c.endsWith(':') ? 'right' : null,
  );
  let i = start + 2;
  const rows: string[][] = [];
  while (i < lines.length && !isBlank(lines[i]) && lines[i].includes('|'))
    rows.push(cells(lines[i++]));
  const cell = (tag: 'th' | 'td', text: string, k: number) =>
    h(tag, align[k] ? { class: `align-${align[k]}` } : null, inline(text));
  return {
    node: h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { class: 'grid' },
        h(
          'thead',
          null,
          h(
            'tr',
            null,
            head.map((c, k) => cell('th', c, k)),
          ),
        ),
        h(
          'tbody',
          null,
          rows.map((r) =>
            h(
              'tr',
              null,
              head.map((_, k) => cell('td', r[k] ?? '', k)),
            ),
          ),
        ),
      ),
    ),
    next: i,
  };
}
