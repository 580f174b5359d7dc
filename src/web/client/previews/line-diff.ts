/** Line diff (Myers' O(ND) algorithm) and its unified rendering. */
import { h } from '../dom.js';

/** One line of a diff: kept, removed from `a`, or added in `b` (1-based line numbers). */
export type DiffLine =
  | { op: '='; a: number; b: number; text: string }
  | { op: '-'; a: number; text: string }
  | { op: '+'; b: number; text: string };

/**
 * The shortest edit script from `a` to `b`, or null when the two differ in more than `maxEdits`
 * lines (the cost grows with the square of the edit count).
 */
export function diffLines(a: string[], b: string[], maxEdits = 4000): DiffLine[] | null {
  let pre = 0;
  while (pre < a.length && pre < b.length && a[pre] === b[pre]) pre++;
  let suf = 0;
  while (
    suf < a.length - pre &&
    suf < b.length - pre &&
    a[a.length - 1 - suf] === b[b.length - 1 - suf]
  )
    suf++;
  const A = a.slice(pre, a.length - suf);
  const B = b.slice(pre, b.length - suf);
  const mid = myers(A, B, maxEdits);
  if (!mid) return null;
  const out: DiffLine[] = [];
  for (let i = 0; i < pre; i++) out.push({ op: '=', a: i + 1, b: i + 1, text: a[i] });
  for (const d of mid) {
    if (d.op === '=') out.push({ op: '=', a: d.a + pre, b: d.b + pre, text: d.text });
    else if (d.op === '-') out.push({ op: '-', a: d.a + pre, text: d.text });
    else out.push({ op: '+', b: d.b + pre, text: d.text });
  }
  for (let i = suf; i > 0; i--)
    out.push({ op: '=', a: a.length - i + 1, b: b.length - i + 1, text: a[a.length - i] });
  return out;
}

function myers(a: string[], b: string[], maxD: number): DiffLine[] | null {
  const N = a.length;
  const M = b.length;
  const max = N + M;
  const off = max + 1;
  const V = new Int32Array(2 * max + 3);
  const trace: Int32Array[] = [];
  for (let d = 0; d <= Math.min(max, maxD); d++) {
    trace.push(V.slice(off - d - 1, off + d + 2));
    for (let k = -d; k <= d; k += 2) {
      let x =
        k === -d || (k !== d && V[off + k - 1] < V[off + k + 1])
          ? V[off + k + 1]
          : V[off + k - 1] + 1;
      let y = x - k;
      while (x < N && y < M && a[x] === b[y]) {
        x++;
        y++;
      }
      V[off + k] = x;
      if (x >= N && y >= M) return backtrack(a, b, trace, d);
    }
  }
  return null;
}

function backtrack(a: string[], b: string[], trace: Int32Array[], D: number): DiffLine[] {
  const out: DiffLine[] = [];
  let x = a.length;
  let y = b.length;
  for (let d = D; d >= 0; d--) {
    const v = trace[d];
    const at = (k: number) => v[k + d + 1];
    const k = x - y;
    const prevK = d === 0 ? 0 : k === -d || (k !== d && at(k - 1) < at(k + 1)) ? k + 1 : k - 1;
    const prevX = d === 0 ? 0 : at(prevK);
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) {
      out.push({ op: '=', a: x, b: y, text: a[x - 1] });
      x--;
      y--;
    }
    if (d === 0) break;
    if (x === prevX) out.push({ op: '+', b: y, text: b[y - 1] });
    else out.push({ op: '-', a: x, text: a[x - 1] });
    x = prevX;
    y = prevY;
  }
  return out.reverse();
}

/** Unified view: changes with `context` lines around them; long unchanged runs folded. */
export function renderDiff(lines: DiffLine[], context = 3): HTMLElement {
  const added = lines.filter((l) => l.op === '+').length;
  const removed = lines.filter((l) => l.op === '-').length;
  const keep = new Uint8Array(lines.length);
  lines.forEach((l, i) => {
    if (l.op !== '=')
      for (let j = Math.max(0, i - context); j <= Math.min(lines.length - 1, i + context); j++)
        keep[j] = 1;
  });
  const body = h('tbody');
  for (let i = 0; i < lines.length;) {
    if (!keep[i]) {
      let j = i;
      while (j < lines.length && !keep[j]) j++;
      body.appendChild(
        h(
          'tr',
          { class: 'd-fold' },
          h('td', { colspan: 4 }, `⋯ ${j - i} unchanged line${j - i === 1 ? '' : 's'}`),
        ),
      );
      i = j;
      continue;
    }
    const l = lines[i++];
    const cls = l.op === '+' ? 'd-add' : l.op === '-' ? 'd-del' : 'd-eq';
    body.appendChild(
      h(
        'tr',
        { class: cls },
        h('td', { class: 'ln', 'data-ln': l.op === '+' ? '' : l.a }),
        h('td', { class: 'ln', 'data-ln': l.op === '-' ? '' : l.b }),
        h('td', { class: 'd-op' }, l.op === '=' ? ' ' : l.op),
        h('td', { class: 'src' }, l.text),
      ),
    );
  }
  return h(
    'div',
    { class: 'diff', id: 'diff' },
    h(
      'p',
      { class: 'diff-stat' },
      h('span', { class: 'd-add-n' }, `+${added}`),
      ' ',
      h('span', { class: 'd-del-n' }, `−${removed}`),
      added + removed === 0 ? h('span', { class: 'muted' }, ' · identical text') : null,
    ),
    h('div', { class: 'code-wrap' }, h('table', { class: 'code diff-table' }, body)),
  );
}
