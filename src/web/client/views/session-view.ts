/** One session: facts, seal state (verified in the browser), actions and its artifacts. */
import { apiPath, cairn, request } from '../api.js';
import { confirmDialog, shareDialog } from '../dialogs.js';
import { append, button, h, link, replace } from '../dom.js';
import { baseType, formatBytes } from '../format.js';
import { render, type ViewContext } from '../router.js';
import type { ArtifactRecord, SessionRecord } from '../types.js';
import { checkSeal } from '../verify-seal.js';
import { badge, copyButton, facts, metaChips, saveBlob, timeCell, toast } from '../widgets.js';

/** `/ui/sessions/{sid}` */
export async function sessionView({ params }: ViewContext): Promise<Node> {
  const s = await cairn.session(params[0]);
  const table = h('div', { class: 'table-wrap' });
  const allVersions = h('input', { type: 'checkbox', id: 'all-versions' });
  const nameFilter = h('input', {
    type: 'search',
    id: 'name-filter',
    placeholder: 'Filter names',
    'aria-label': 'Filter artifact names',
  });
  const redraw = () =>
    replace(table, artifactTable(s.artifacts, allVersions.checked, nameFilter.value));
  allVersions.addEventListener('change', redraw);
  nameFilter.addEventListener('input', redraw);
  redraw();
  return h(
    'div',
    { class: 'view' },
    h('div', { class: 'crumbs' }, link('/ui/sessions', 'Sessions'), ' / '),
    h(
      'div',
      { class: 'view-head' },
      h('h1', { class: 'mono' }, s.id),
      s.sealed ? badge('sealed', 'sealed') : badge('open', 'open'),
      s.pinned ? badge('pinned', 'pinned') : null,
      h('span', { class: 'spacer' }),
      actions(s),
    ),
    s.sealed ? sealBanner(s) : null,
    facts([
      ['Artifacts', `${s.artifact_count} (${formatBytes(s.total_bytes)})`],
      ['Created', timeCell(s.created_at)],
      ['Updated', timeCell(s.updated_at)],
      ['Expires', s.pinned ? 'never (pinned)' : timeCell(s.expires_at)],
      [
        'Metadata',
        Object.keys(s.meta).length ? metaChips(s.meta) : h('span', { class: 'muted' }, 'none'),
      ],
    ]),
    h(
      'div',
      { class: 'toolbar' },
      h('h2', null, 'Artifacts'),
      h('span', { class: 'spacer' }),
      nameFilter,
      h('label', { class: 'check' }, allVersions, ' all versions'),
    ),
    table,
  );
}

function actions(s: SessionRecord): HTMLElement {
  const bar = h('div', { class: 'actions' });
  if (!s.sealed) {
    append(bar, [
      button('Seal…', () => void seal(s), { id: 'seal', title: 'Seal this session (one-way)' }),
    ]);
  }
  append(bar, [
    button(
      'Share…',
      () => shareDialog(apiPath('/v1/sessions', s.id, 'share'), `session ${s.id} as a tar`),
      { id: 'share-session' },
    ),
    button('Export .tar', (ev) => void exportTar(s.id, ev.currentTarget as HTMLButtonElement), {
      id: 'export',
    }),
    copyButton(location.href, 'Copy page link', ''),
  ]);
  return bar;
}

async function seal(s: SessionRecord): Promise<void> {
  const ok = await confirmDialog({
    title: `Seal ${s.id}?`,
    body: [
      h(
        'p',
        null,
        'Sealing is one-way: no artifact can be added, replaced or deleted afterwards, and metadata is frozen.',
      ),
      h(
        'p',
        null,
        `The server computes a digest over the ${s.artifact_count} artifacts and signs it.`,
      ),
    ],
    confirm: 'Seal session',
    danger: true,
  });
  if (!ok) return;
  try {
    await cairn.seal(s.id);
  } catch (e) {
    toast(`Not sealed: ${e instanceof Error ? e.message : String(e)}`);
    return;
  }
  await render();
}

async function exportTar(sid: string, b: HTMLButtonElement): Promise<void> {
  const label = b.textContent;
  b.disabled = true;
  b.textContent = 'Exporting…';
  try {
    const res = await request(apiPath('/v1/sessions', sid, 'export'));
    saveBlob(await res.blob(), `${sid}.tar`);
  } catch (e) {
    b.title = e instanceof Error ? e.message : String(e);
    b.textContent = 'Export failed';
    setTimeout(() => (b.textContent = label), 3000);
    return;
  } finally {
    b.disabled = false;
  }
  b.textContent = label;
}

function sealBanner(s: SessionRecord): HTMLElement {
  const status = h('span', { class: 'seal-status', id: 'seal-status' }, 'checking…');
  checkSeal(s.id, s.digest ?? '', s.signature)
    .then((c) => {
      const parts: HTMLElement[] = [];
      if (c.digest === null)
        parts.push(
          h(
            'span',
            { class: 'muted' },
            'not checked here (needs https or localhost); run cairn verify',
          ),
        );
      else
        parts.push(
          h(
            'span',
            { class: c.digest ? 'ok' : 'bad' },
            c.digest ? '✓ digest matches manifest' : '✗ digest does not match manifest',
          ),
        );
      if (c.signature !== null)
        parts.push(
          h(
            'span',
            { class: c.signature ? 'ok' : 'bad' },
            c.signature ? ` · ✓ signed by ${c.keyId ?? ''}` : ' · ✗ signature invalid',
          ),
        );
      replace(status, parts);
    })
    .catch(() => replace(status, h('span', { class: 'muted' }, 'could not be checked')));
  return h(
    'div',
    { class: 'banner banner-sealed', role: 'note' },
    h('strong', null, 'Sealed'),
    ' ',
    timeCell(s.sealed_at),
    h('span', { class: 'sep' }, '·'),
    'digest ',
    h('code', { class: 'mono', id: 'digest' }, s.digest ?? ''),
    copyButton(s.digest ?? ''),
    h('span', { class: 'sep' }, '·'),
    status,
  );
}

/** The artifacts table, latest versions only unless `all`, names containing `filter`. */
function artifactTable(artifacts: ArtifactRecord[], all: boolean, filter: string): HTMLElement {
  const latest = new Map<string, number>();
  for (const a of artifacts) latest.set(a.name, Math.max(latest.get(a.name) ?? 0, a.version));
  const f = filter.trim().toLowerCase();
  const shown = artifacts
    .filter(
      (a) => (all || latest.get(a.name) === a.version) && (!f || a.name.toLowerCase().includes(f)),
    )
    .sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : y.version - x.version));
  if (!shown.length)
    return h(
      'p',
      { class: 'empty' },
      artifacts.length ? 'No artifact matches.' : 'This session has no artifacts.',
    );
  return h(
    'table',
    { class: 'grid', id: 'artifacts' },
    h(
      'thead',
      null,
      h(
        'tr',
        null,
        ['Name', 'Ver', 'Type', 'Size', 'Metadata', 'Lineage', 'Created', 'Expires'].map((c) =>
          h('th', { class: c === 'Size' || c === 'Ver' ? 'num' : null }, c),
        ),
      ),
    ),
    h(
      'tbody',
      null,
      shown.map((a) => {
        const versions = latest.get(a.name) ?? 1;
        return h(
          'tr',
          { 'data-artifact': a.id },
          h(
            'td',
            { class: 'mono name' },
            link(`/ui/artifacts/${encodeURIComponent(a.id)}`, a.name),
          ),
          h(
            'td',
            { class: 'num', title: `${versions} version${versions === 1 ? '' : 's'}` },
            `v${a.version}`,
            versions > 1 && !all ? h('span', { class: 'muted' }, `/${versions}`) : null,
          ),
          h('td', { class: 'type' }, baseType(a.content_type)),
          h('td', { class: 'num' }, formatBytes(a.size)),
          h('td', null, metaChips(a.meta)),
          h(
            'td',
            null,
            a.derived_from.length
              ? link(
                  `/ui/artifacts/${encodeURIComponent(a.id)}#lineage`,
                  `← ${a.derived_from.length} input${a.derived_from.length === 1 ? '' : 's'}`,
                )
              : h('span', { class: 'muted' }, '—'),
          ),
          h('td', null, timeCell(a.created_at)),
          h('td', null, timeCell(a.expires_at)),
        );
      }),
    ),
  );
}
