/** The sessions list: newest first, filters by id text, metadata and state, cursor paging. */
import { cairn } from '../api.js';
import { h, link } from '../dom.js';
import { formatBytes, shortHash } from '../format.js';
import { navigate, type ViewContext } from '../router.js';
import { badge, metaChips, timeCell } from '../widgets.js';

const PAGE = 50;

/** Parses `k=v k2=v2` (space or comma separated) into `meta.k=v` parameters. */
export function metaParams(text: string): [string, string][] {
  return text
    .split(/[\s,]+/)
    .filter(Boolean)
    .map((pair) => {
      const i = pair.indexOf('=');
      return i === -1 ? [`meta.${pair}`, ''] : [`meta.${pair.slice(0, i)}`, pair.slice(i + 1)];
    });
}

/** `/ui/sessions?q=&meta=&state=&cursor=` */
export async function sessionsView({ query }: ViewContext): Promise<Node> {
  const q = query.get('q') ?? '';
  const meta = query.get('meta') ?? '';
  const state = query.get('state') ?? '';
  const cursor = query.get('cursor') ?? '';
  const params = new URLSearchParams({ limit: String(PAGE) });
  if (q) params.set('q', q);
  for (const [k, v] of metaParams(meta)) params.append(k, v);
  if (state) params.set('sealed', String(state === 'sealed'));
  if (cursor) params.set('cursor', cursor);
  const page = await cairn.sessions(params);

  const qIn = h('input', {
    id: 'f-q',
    type: 'search',
    value: q,
    placeholder: 'run_42',
    'aria-label': 'Session id contains',
  });
  const metaIn = h('input', {
    id: 'f-meta',
    type: 'search',
    value: meta,
    placeholder: 'agent=claude stage=qa',
    'aria-label': 'Metadata k=v',
  });
  const stateIn = h(
    'select',
    { id: 'f-state', 'aria-label': 'State' },
    [
      ['', 'Any state'],
      ['open', 'Open'],
      ['sealed', 'Sealed'],
    ].map(([v, label]) => h('option', { value: v, selected: v === state }, label)),
  );
  const filters = h(
    'form',
    {
      class: 'filters',
      role: 'search',
      onsubmit: (ev: Event) => {
        ev.preventDefault();
        const next = new URLSearchParams();
        if (qIn.value.trim()) next.set('q', qIn.value.trim());
        if (metaIn.value.trim()) next.set('meta', metaIn.value.trim());
        if (stateIn.value) next.set('state', stateIn.value);
        navigate(`/ui/sessions${next.size ? `?${next.toString()}` : ''}`);
      },
    },
    h('label', { class: 'field' }, h('span', null, 'Id contains'), qIn),
    h('label', { class: 'field grow' }, h('span', null, 'Metadata'), metaIn),
    h('label', { class: 'field' }, h('span', null, 'State'), stateIn),
    h('button', { type: 'submit', class: 'primary', id: 'f-apply' }, 'Filter'),
    q || meta || state ? link('/ui/sessions', 'Clear') : null,
  );

  const rows = page.items.map((s) =>
    h(
      'tr',
      { 'data-session': s.id },
      h('td', { class: 'mono' }, link(`/ui/sessions/${encodeURIComponent(s.id)}`, s.id)),
      h(
        'td',
        null,
        s.sealed ? badge('sealed', 'sealed') : badge('open', 'open'),
        s.pinned ? badge('pinned', 'pinned') : null,
        s.digest
          ? h('span', { class: 'mono muted digest', title: s.digest }, ` ${shortHash(s.digest)}`)
          : null,
      ),
      h('td', { class: 'num' }, String(s.artifact_count)),
      h('td', { class: 'num' }, formatBytes(s.total_bytes)),
      h('td', null, metaChips(s.meta)),
      h('td', null, timeCell(s.created_at)),
      h('td', null, timeCell(s.updated_at)),
      h('td', null, timeCell(s.expires_at)),
    ),
  );
  const here = new URLSearchParams(query);
  here.delete('cursor');
  const base = `/ui/sessions${here.size ? `?${here.toString()}&` : '?'}`;
  const pager = h(
    'nav',
    { class: 'pager', 'aria-label': 'Pages' },
    cursor ? link(base.slice(0, -1), '« Newest') : null,
    h(
      'span',
      { class: 'muted' },
      `${page.items.length} session${page.items.length === 1 ? '' : 's'} on this page`,
    ),
    page.next_cursor
      ? link(`${base}cursor=${encodeURIComponent(page.next_cursor)}`, 'Older ›')
      : null,
  );
  return h(
    'div',
    { class: 'view' },
    h('div', { class: 'view-head' }, h('h1', null, 'Sessions')),
    filters,
    page.items.length
      ? h(
          'div',
          { class: 'table-wrap' },
          h(
            'table',
            { class: 'grid', id: 'sessions' },
            h(
              'thead',
              null,
              h(
                'tr',
                null,
                [
                  'Session',
                  'State',
                  'Artifacts',
                  'Size',
                  'Metadata',
                  'Created',
                  'Updated',
                  'Expires',
                ].map((c) =>
                  h('th', { class: c === 'Artifacts' || c === 'Size' ? 'num' : null }, c),
                ),
              ),
            ),
            h('tbody', null, rows),
          ),
        )
      : h(
          'p',
          { class: 'empty' },
          q || meta || state
            ? 'No session matches these filters.'
            : 'No sessions yet. Push something: cairn push FILE --session run_1',
        ),
    pager,
  );
}
