/** One artifact: facts, versions, preview or diff, lineage. */
import { api, apiPath, cairn, fetchBlob, fetchRange } from '../api.js';
import { shareDialog } from '../dialogs.js';
import { button, h, link, replace } from '../dom.js';
import { formatBytes } from '../format.js';
import { artifactPreview, RENDER_LIMIT } from '../previews/artifact-preview.js';
import { diffLines, renderDiff } from '../previews/line-diff.js';
import { looksLikeText } from '../previews/preview-kind.js';
import { navigate, type ViewContext } from '../router.js';
import type { ArtifactRecord, Lineage, LineageNode } from '../types.js';
import { copyButton, facts, metaChips, saveBlob, timeCell } from '../widgets.js';

/** A glob that matches exactly `name` (the query's `name=` is a glob). */
export function literalGlob(name: string): string {
  return name.replace(/[*?[]/g, (c) => `[${c}]`);
}

const href = (a: { id: string }) => `/ui/artifacts/${encodeURIComponent(a.id)}`;

/** `/ui/artifacts/{id}` and `/ui/artifacts/{id}?diff={otherId}` */
export async function artifactView({ params, query }: ViewContext): Promise<Node> {
  const a = await cairn.artifact(params[0]);
  const versions = (
    await cairn.artifacts(
      new URLSearchParams({ session: a.session, name: literalGlob(a.name), limit: '1000' }),
    )
  ).items.sort((x, y) => y.version - x.version);
  const latest = versions[0]?.version ?? a.version;
  const download = () =>
    void fetchBlob(a.id).then((b) => saveBlob(b, a.name.split('/').pop() ?? 'artifact'));
  const diffWith = query.get('diff');

  const versionSelect = h(
    'select',
    { id: 'version', 'aria-label': 'Version' },
    versions.map((v) =>
      h(
        'option',
        { value: v.id, selected: v.id === a.id },
        `v${v.version}${v.version === latest ? ' (latest)' : ''}`,
      ),
    ),
  );
  versionSelect.addEventListener('change', () => navigate(href({ id: versionSelect.value })));
  const others = versions.filter((v) => v.id !== a.id);
  const compare = h(
    'select',
    { id: 'compare', 'aria-label': 'Compare with version' },
    h('option', { value: '' }, 'Compare with…'),
    others.map((v) =>
      h('option', { value: v.id, selected: v.id === diffWith }, `compare with v${v.version}`),
    ),
  );
  compare.addEventListener('change', () =>
    navigate(compare.value ? `${href(a)}?diff=${encodeURIComponent(compare.value)}` : href(a)),
  );

  return h(
    'div',
    { class: 'view' },
    h(
      'div',
      { class: 'crumbs' },
      link('/ui/sessions', 'Sessions'),
      ' / ',
      link(`/ui/sessions/${encodeURIComponent(a.session)}`, a.session),
      ' / ',
    ),
    h(
      'div',
      { class: 'view-head' },
      h('h1', { class: 'mono' }, a.name),
      versionSelect,
      h('span', { class: 'spacer' }),
      h(
        'div',
        { class: 'actions' },
        others.length ? compare : null,
        button('Download', download, { id: 'download' }),
        button(
          'Share…',
          () => shareDialog(apiPath('/v1/artifacts', a.id, 'share'), `${a.name} v${a.version}`),
          { id: 'share' },
        ),
      ),
    ),
    h(
      'div',
      { class: 'split' },
      h(
        'section',
        { class: 'main-col', 'aria-label': diffWith ? 'Diff' : 'Preview' },
        diffWith ? diffPanel(diffWith, a, versions) : artifactPreview(a, download),
      ),
      h(
        'aside',
        { class: 'side-col' },
        facts([
          ['Version', `v${a.version} of ${latest}`],
          ['Type', h('span', { class: 'mono' }, a.content_type)],
          ['Size', `${formatBytes(a.size)} (${a.size.toLocaleString('en')} bytes)`],
          [
            'sha256',
            h(
              'span',
              { class: 'hash' },
              h('code', { class: 'mono', id: 'sha256' }, a.sha256),
              copyButton(a.sha256),
            ),
          ],
          ['Id', h('code', { class: 'mono' }, a.id)],
          ['Created', timeCell(a.created_at)],
          ['Expires', timeCell(a.expires_at)],
          [
            'Metadata',
            Object.keys(a.meta).length ? metaChips(a.meta) : h('span', { class: 'muted' }, 'none'),
          ],
        ]),
        h('h2', { id: 'lineage' }, 'Lineage'),
        lineagePanel(a),
      ),
    ),
  );
}

function diffPanel(otherId: string, a: ArtifactRecord, versions: ArtifactRecord[]): HTMLElement {
  const panel = h('div', { class: 'preview' }, h('p', { class: 'loading' }, 'Computing diff…'));
  const other = versions.find((v) => v.id === otherId);
  const load = async (): Promise<Node> => {
    const b = other ?? (await cairn.artifact(otherId));
    const [older, newer] = b.version < a.version ? [b, a] : [a, b];
    const texts: string[] = [];
    for (const x of [older, newer]) {
      const end = Math.min(x.size, RENDER_LIMIT);
      const { bytes } = end ? await fetchRange(x.id, 0, end) : { bytes: new Uint8Array() };
      if (!looksLikeText(bytes.subarray(0, 4096)))
        return h('p', null, 'These versions are not text; download them to compare.');
      texts.push(new TextDecoder().decode(bytes));
    }
    const lines = diffLines(texts[0].split('\n'), texts[1].split('\n'));
    const head = h(
      'p',
      { class: 'diff-head' },
      'Changes from ',
      link(href(older), `v${older.version}`),
      ' to ',
      link(href(newer), `v${newer.version}`),
      ' · ',
      link(href(a), 'close diff'),
    );
    if (!lines) return h('div', null, head, h('p', null, 'Too many differences to show here.'));
    return h('div', null, head, renderDiff(lines));
  };
  load()
    .then((n) => replace(panel, n))
    .catch((e: unknown) => replace(panel, h('p', { class: 'form-error' }, String(e))));
  return panel;
}

/** A lineage tree as nested lists of links. */
function lineageTree(nodes: LineageNode[], empty: string): HTMLElement {
  if (!nodes.length) return h('p', { class: 'muted' }, empty);
  return h(
    'ul',
    { class: 'lineage' },
    nodes.map((n) =>
      h(
        'li',
        null,
        n.missing || n.name === null
          ? h(
              'span',
              { class: 'mono muted', title: 'deleted, expired or from another server' },
              `${n.id} (missing)`,
            )
          : link(href(n), h('span', { class: 'mono' }, n.name)),
        n.name !== null
          ? h('span', { class: 'muted' }, ` v${n.version ?? '?'} · ${n.session ?? ''}`)
          : null,
        n.repeated ? h('span', { class: 'muted' }, ' (see above)') : null,
        n.truncated ? h('span', { class: 'muted' }, ' …') : null,
        n.next?.length ? lineageTree(n.next, '') : null,
      ),
    ),
  );
}

function lineagePanel(a: ArtifactRecord): HTMLElement {
  const panel = h(
    'div',
    { class: 'lineage-panel', id: 'lineage-panel' },
    h('p', { class: 'loading' }, 'Loading…'),
  );
  api<Lineage>(apiPath('/v1/artifacts', a.id, 'lineage'))
    .then((l) =>
      replace(
        panel,
        h('h3', null, 'Derived from'),
        lineageTree(l.upstream, 'Nothing: this artifact has no recorded inputs.'),
        h('h3', null, 'Used by'),
        lineageTree(l.downstream, 'Nothing derived from it yet.'),
      ),
    )
    .catch((e: unknown) => replace(panel, h('p', { class: 'form-error' }, String(e))));
  return panel;
}
