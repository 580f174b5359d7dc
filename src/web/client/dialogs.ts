/** Modal dialogs built on <dialog> (focus trapped by the browser; Escape cancels). */
import { append, button, h, type Child } from './dom.js';
import { api, ApiError } from './api.js';
import { formatTime } from './format.js';
import type { ShareLink } from './types.js';
import { copyButton } from './widgets.js';

/** Shows a modal; resolves true if the confirm button was pressed. */
export function confirmDialog(opts: {
  title: string;
  body: Child;
  confirm: string;
  danger?: boolean;
}): Promise<boolean> {
  return new Promise((resolve) => {
    const dlg = h('dialog', { class: 'modal', 'aria-labelledby': 'dlg-title' });
    const close = (v: boolean) => {
      dlg.close();
      dlg.remove();
      resolve(v);
    };
    append(dlg, [
      h('h2', { id: 'dlg-title' }, opts.title),
      h('div', { class: 'modal-body' }, opts.body),
      h(
        'div',
        { class: 'modal-actions' },
        button('Cancel', () => close(false), { id: 'dlg-cancel' }),
        button(opts.confirm, () => close(true), {
          id: 'dlg-confirm',
          class: opts.danger ? 'danger' : 'primary',
        }),
      ),
    ]);
    dlg.addEventListener('cancel', (ev) => {
      ev.preventDefault();
      close(false);
    });
    document.body.appendChild(dlg);
    dlg.showModal();
    (dlg.querySelector('#dlg-cancel') as HTMLButtonElement).focus();
  });
}

/**
 * The share dialog: pick a lifetime, create the link with `POST {path}` ({ttl}), then show the
 * URL with a copy button. The URL's secret is shown once; it is never put in the page's URL.
 */
export function shareDialog(path: string, what: string): void {
  const dlg = h('dialog', { class: 'modal', 'aria-labelledby': 'dlg-title' });
  const ttl = h(
    'select',
    { id: 'share-ttl' },
    ['1h', '24h', '7d', '30d'].map((v) => h('option', { value: v, selected: v === '24h' }, v)),
  );
  const out = h('div', { class: 'share-out' });
  const create = button(
    'Create link',
    () => {
      create.disabled = true;
      api<ShareLink>(path, 'POST', { ttl: ttl.value })
        .then((link) => {
          const url = h('input', {
            id: 'share-url',
            class: 'mono',
            readonly: true,
            value: link.url,
            'aria-label': 'Share link',
          });
          append(out, [
            h('label', { for: 'share-url' }, 'Anyone with this link can download it:'),
            h('div', { class: 'row' }, url, copyButton(link.url)),
            h(
              'p',
              { class: 'muted' },
              `Expires ${formatTime(link.expires_at)}. Revoke with `,
              h('code', null, `cairn unshare ${link.id}`),
              '.',
            ),
          ]);
          url.select();
        })
        .catch((e: unknown) => {
          create.disabled = false;
          append(out, [
            h('p', { class: 'form-error' }, e instanceof ApiError ? e.message : String(e)),
          ]);
        });
    },
    { class: 'primary', id: 'share-create' },
  );
  append(dlg, [
    h('h2', { id: 'dlg-title' }, `Share ${what}`),
    h(
      'div',
      { class: 'modal-body' },
      h('p', null, 'Creates an expiring link that works without a token.'),
      h('div', { class: 'row' }, h('label', { for: 'share-ttl' }, 'Expires after'), ttl, create),
      out,
    ),
    h(
      'div',
      { class: 'modal-actions' },
      button('Close', () => dlg.close(), { id: 'dlg-close' }),
    ),
  ]);
  dlg.addEventListener('close', () => dlg.remove());
  document.body.appendChild(dlg);
  dlg.showModal();
}
