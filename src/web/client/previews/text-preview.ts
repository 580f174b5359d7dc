/** Plain text with line numbers, loaded in chunks with "load more". */
import { fetchRange } from '../api.js';
import { button, h, replace } from '../dom.js';
import { formatBytes } from '../format.js';

/** How much each "load more" fetches. */
export const TEXT_CHUNK = 256 * 1024;

/**
 * A line-numbered text view of an artifact, first `TEXT_CHUNK` bytes, then more on demand.
 * Chunks are decoded as one UTF-8 stream, so a character split across chunks stays whole.
 */
export function textPreview(id: string, size: number): HTMLElement {
  const decoder = new TextDecoder('utf-8');
  const body = h('tbody');
  const table = h('table', { class: 'code', id: 'text-lines' }, body);
  const more = h('div', { class: 'more' });
  const wrap = h('div', { class: 'code-wrap' }, table, more);
  let offset = 0;
  let lineNo = 0;
  let partial = '';
  let partialRow: HTMLTableRowElement | null = null;

  const addLines = (text: string, final: boolean) => {
    const lines = (partial + text).split('\n');
    partial = final ? '' : (lines.pop() ?? '');
    if (partialRow) {
      partialRow.remove();
      partialRow = null;
      lineNo--;
    }
    if (final && lines.length && lines[lines.length - 1] === '' && lines.length > 1) lines.pop();
    const frag = document.createDocumentFragment();
    for (const line of lines) frag.appendChild(row(++lineNo, line));
    if (partial) {
      partialRow = row(++lineNo, partial);
      frag.appendChild(partialRow);
    }
    body.appendChild(frag);
  };

  const load = async () => {
    replace(more, h('span', { class: 'muted' }, 'Loading…'));
    const end = Math.min(size, offset + TEXT_CHUNK);
    const { bytes } = size === 0 ? { bytes: new Uint8Array() } : await fetchRange(id, offset, end);
    offset += bytes.length;
    const done = offset >= size;
    addLines(decoder.decode(bytes, { stream: !done }), done);
    if (done)
      replace(
        more,
        h(
          'span',
          { class: 'muted' },
          `${lineNo} line${lineNo === 1 ? '' : 's'} · ${formatBytes(size)}`,
        ),
      );
    else
      replace(
        more,
        button(
          `Load more (${formatBytes(offset)} of ${formatBytes(size)} shown)`,
          () => void load(),
          { id: 'load-more', class: 'small' },
        ),
      );
  };
  void load().catch((e: unknown) => replace(more, h('span', { class: 'form-error' }, String(e))));
  return wrap;
}

function row(n: number, text: string): HTMLTableRowElement {
  return h('tr', null, h('td', { class: 'ln', 'data-ln': n }), h('td', { class: 'src' }, text));
}

/** A line-numbered view of text already in memory (e.g. a Markdown or JSON source tab). */
export function staticText(text: string): HTMLElement {
  const lines = text.split('\n');
  if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
  return h(
    'div',
    { class: 'code-wrap' },
    h(
      'table',
      { class: 'code' },
      h(
        'tbody',
        null,
        lines.map((l, i) => row(i + 1, l)),
      ),
    ),
  );
}
