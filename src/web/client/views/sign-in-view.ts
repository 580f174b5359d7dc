/** The token form shown until the tab has a working token. */
import { setToken, tokenWorks } from '../api.js';
import { h } from '../dom.js';

/** Sign-in form; calls `done` once a token is accepted by the server. */
export function signInView(done: () => void): HTMLElement {
  const input = h('input', {
    id: 'token',
    type: 'password',
    name: 'token',
    autocomplete: 'current-password',
    placeholder: 'Paste a token (cairn-data/admin.token, or cairn token create)',
    required: true,
    spellcheck: 'false',
  });
  const status = h('p', { class: 'form-error', role: 'status' });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Sign in');
  const form = h(
    'form',
    {
      class: 'signin',
      onsubmit: (ev: Event) => {
        ev.preventDefault();
        const token = input.value.trim();
        if (!token) return;
        submit.disabled = true;
        status.textContent = 'Checking…';
        tokenWorks(token)
          .then((ok) => {
            if (!ok) {
              status.textContent = 'The server refused this token. Check it and try again.';
              submit.disabled = false;
              input.select();
              return;
            }
            setToken(token);
            done();
          })
          .catch((e: unknown) => {
            status.textContent = e instanceof Error ? e.message : String(e);
            submit.disabled = false;
          });
      },
    },
    h(
      'div',
      { class: 'signin-brand' },
      h('span', { class: 'logo', 'aria-hidden': 'true' }),
      'cairn',
    ),
    h('h1', null, 'Sign in'),
    h(
      'p',
      { class: 'muted' },
      'Paste an API token. It is kept for this browser tab only and sent as a bearer header.',
    ),
    h('label', { for: 'token' }, 'API token'),
    input,
    submit,
    status,
    h(
      'p',
      { class: 'hint' },
      'On the server machine the admin token is in ',
      h('code', null, '<data>/admin.token'),
      '; ',
      h('code', null, 'cairn token create --scope read'),
      ' makes a read-only one.',
    ),
  );
  queueMicrotask(() => input.focus());
  return h('main', { class: 'signin-page' }, form);
}
