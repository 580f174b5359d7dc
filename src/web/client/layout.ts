/** The top bar every signed-in page shares. */
import { button, h } from './dom.js';

/** The header with the brand, navigation and sign-out. */
export function layout(signOut: () => void): HTMLElement {
  return h(
    'header',
    { class: 'topbar' },
    h(
      'a',
      { class: 'brand', href: '/ui/sessions', 'data-nav': true },
      h('span', { class: 'logo', 'aria-hidden': 'true' }),
      'cairn',
    ),
    h(
      'nav',
      { 'aria-label': 'Main' },
      h('a', { href: '/ui/sessions', 'data-nav': true }, 'Sessions'),
    ),
    h('span', { class: 'spacer' }),
    h('span', { class: 'host' }, location.host),
    button('Sign out', signOut, { class: 'ghost', id: 'sign-out' }),
  );
}
