/** Picks and builds the preview of one artifact (see preview-kind.ts). */
import { fetchBlob, fetchRange } from '../api.js';
import { button, h, replace, type Child } from '../dom.js';
import { formatBytes } from '../format.js';
import type { ArtifactRecord } from '../types.js';
import { csvTable } from './csv-table.js';
import { jsonTree } from './json-tree.js';
import { renderMarkdown } from './markdown.js';
import { looksLikeText, previewKind } from './preview-kind.js';
import { sandboxFrame } from './sandbox-frame.js';
import { staticText, textPreview } from './text-preview.js';

/** Rendered previews (Markdown, JSON, CSV, HTML) read at most this much. */
export const RENDER_LIMIT = 2 * 1024 * 1024;

/** The preview panel for an artifact; loads asynchronously. */
export function artifactPreview(a: ArtifactRecord, download: () => void): HTMLElement {
  const panel = h(
    'div',
    { class: 'preview', id: 'preview' },
    h('p', { class: 'loading' }, 'Loading preview…'),
  );
  build(a, download)
    .then((n) => replace(panel, n))
    .catch((e: unknown) =>
      replace(
        panel,
        h(
          'p',
          { class: 'form-error' },
          `Preview failed: ${e instanceof Error ? e.message : String(e)}`,
        ),
      ),
    );
  return panel;
}

async function readText(a: ArtifactRecord): Promise<{ text: string; cut: boolean }> {
  const end = Math.min(a.size, RENDER_LIMIT);
  if (end === 0) return { text: '', cut: false };
  const { bytes } = await fetchRange(a.id, 0, end);
  return { text: new TextDecoder().decode(bytes), cut: a.size > end };
}

/** Two tabs: a rendered view and the line-numbered source. */
function tabs(rendered: Child, source: () => Node, renderedLabel = 'Preview'): HTMLElement {
  const panel = h('div', { class: 'tab-panel', role: 'tabpanel' });
  const show = (which: 'r' | 's') => {
    rTab.setAttribute('aria-selected', String(which === 'r'));
    sTab.setAttribute('aria-selected', String(which === 's'));
    replace(panel, which === 'r' ? rendered : source());
  };
  const rTab = button(renderedLabel, () => show('r'), {
    role: 'tab',
    class: 'tab',
    id: 'tab-rendered',
  });
  const sTab = button('Source', () => show('s'), { role: 'tab', class: 'tab', id: 'tab-source' });
  show('r');
  return h(
    'div',
    { class: 'tabs' },
    h('div', { role: 'tablist', class: 'tablist' }, rTab, sTab),
    panel,
  );
}

async function build(a: ArtifactRecord, download: () => void): Promise<Node> {
  let kind = previewKind(a.content_type, a.name);
  if (a.size > RENDER_LIMIT && kind !== 'image' && kind !== 'binary') kind = 'text';
  switch (kind) {
    case 'text':
      return textPreview(a.id, a.size);
    case 'markdown': {
      const { text, cut } = await readText(a);
      return tabs(
        h(
          'article',
          { class: 'markdown', id: 'markdown' },
          renderMarkdown(text),
          cut ? note('Only the first part is shown.') : null,
        ),
        () => staticText(text),
      );
    }
    case 'json': {
      const { text } = await readText(a);
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (e) {
        return h(
          'div',
          null,
          note(`Not valid JSON (${e instanceof Error ? e.message : ''}); shown as text.`),
          staticText(text),
        );
      }
      return tabs(jsonTree(value), () => staticText(JSON.stringify(value, null, 2)), 'Tree');
    }
    case 'csv':
    case 'tsv': {
      const { text, cut } = await readText(a);
      return tabs(
        csvTable(text, kind === 'csv' ? ',' : '\t', cut),
        () => staticText(text),
        'Table',
      );
    }
    case 'image': {
      const url = URL.createObjectURL(await fetchBlob(a.id));
      const img = h('img', { src: url, alt: a.name, id: 'image-preview' });
      img.addEventListener('load', () => {
        sizeNote.textContent = `${img.naturalWidth} × ${img.naturalHeight} px · ${formatBytes(a.size)}`;
      });
      const sizeNote = h('p', { class: 'muted small' });
      return h('div', { class: 'image-preview checker' }, img, sizeNote);
    }
    case 'sandboxed': {
      const { text } = await readText(a);
      return tabs(sandboxFrame(text, a.name), () => staticText(text), 'Rendered (sandboxed)');
    }
    default: {
      const { bytes } = a.size
        ? await fetchRange(a.id, 0, Math.min(a.size, 4096))
        : { bytes: new Uint8Array() };
      if (a.size && looksLikeText(bytes)) return textPreview(a.id, a.size);
      return h(
        'div',
        { class: 'no-preview' },
        h('p', null, `No preview for ${a.content_type} (${formatBytes(a.size)}).`),
        button('Download', download, { class: 'primary' }),
      );
    }
  }
}

function note(text: string): HTMLElement {
  return h('p', { class: 'note' }, text);
}
