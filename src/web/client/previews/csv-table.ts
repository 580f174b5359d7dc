/** CSV/TSV as a table (RFC 4180 quoting), first rows only. */
import { h } from '../dom.js';

/** Rows shown at most. */
export const CSV_MAX_ROWS = 1000;

/**
 * Parses delimited text: quoted fields may hold the delimiter, newlines and doubled quotes.
 * Stops after `maxRows` rows; `truncated` says whether more followed.
 */
export function parseDelimited(
  text: string,
  delim: string,
  maxRows = CSV_MAX_ROWS,
): { rows: string[][]; truncated: boolean } {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let i = 0;
  const endRow = () => {
    row.push(field);
    field = '';
    if (!(row.length === 1 && row[0] === '')) rows.push(row);
    row = [];
  };
  while (i < text.length) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i += 2;
        continue;
      }
      if (c === '"') quoted = false;
      else field += c;
      i++;
      continue;
    }
    if (c === '"' && field === '') quoted = true;
    else if (c === delim) {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      endRow();
      if (rows.length > maxRows) return { rows: rows.slice(0, maxRows), truncated: true };
    } else field += c;
    i++;
  }
  if (field !== '' || row.length) endRow();
  return { rows: rows.slice(0, maxRows), truncated: rows.length > maxRows };
}

/** The table for delimited text; the first row is the header. */
export function csvTable(text: string, delim: string, cut: boolean): HTMLElement {
  const { rows, truncated } = parseDelimited(text, delim);
  // A row cut by the byte limit is dropped rather than shown half.
  if (cut && !truncated && rows.length > 1) rows.pop();
  const [head = [], ...body] = rows;
  const width = Math.max(head.length, ...body.map((r) => r.length));
  const numeric = Array.from(
    { length: width },
    (_, k) =>
      body.length > 0 &&
      body.every((r) => r[k] === undefined || r[k] === '' || /^-?[\d.,]+(e-?\d+)?%?$/i.test(r[k])),
  );
  return h(
    'div',
    { class: 'csv' },
    h(
      'div',
      { class: 'table-wrap scroll' },
      h(
        'table',
        { class: 'grid csv-table', id: 'csv-table' },
        h(
          'thead',
          null,
          h(
            'tr',
            null,
            h('th', { class: 'rownum' }, '#'),
            Array.from({ length: width }, (_, k) =>
              h('th', { class: numeric[k] ? 'num' : null }, head[k] ?? ''),
            ),
          ),
        ),
        h(
          'tbody',
          null,
          body.map((r, n) =>
            h(
              'tr',
              null,
              h('td', { class: 'rownum' }, String(n + 1)),
              Array.from({ length: width }, (_, k) =>
                h('td', { class: numeric[k] ? 'num' : null }, r[k] ?? ''),
              ),
            ),
          ),
        ),
      ),
    ),
    h(
      'p',
      { class: 'muted' },
      `${body.length} row${body.length === 1 ? '' : 's'} × ${width} column${width === 1 ? '' : 's'}${truncated || cut ? ' (first rows only; download for the rest)' : ''}`,
    ),
  );
}
