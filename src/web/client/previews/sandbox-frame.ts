/**
 * Active content (HTML, SVG) shown inside `<iframe sandbox>` without `allow-scripts` and without
 * `allow-same-origin`: the document gets an opaque origin, cannot run script, cannot read the
 * page or its token, and inherits the page's CSP (no network loads). The text goes in through
 * `srcdoc`, the one HTML sink of the page, behind the Trusted Types policy named here.
 */
import { h } from '../dom.js';

interface TrustedTypePolicyLike {
  createHTML(s: string): unknown;
}
interface TrustedTypesLike {
  createPolicy(name: string, rules: { createHTML(s: string): string }): TrustedTypePolicyLike;
}

/** The Trusted Types policy name the page's CSP allows. */
export const SRCDOC_POLICY = 'cairn-srcdoc';

let policy: TrustedTypePolicyLike | null | undefined;

function toSrcdoc(text: string): string {
  if (policy === undefined) {
    const tt = (window as unknown as { trustedTypes?: TrustedTypesLike }).trustedTypes;
    // Only ever used for the srcdoc of a sandboxed frame (see above).
    policy = tt ? tt.createPolicy(SRCDOC_POLICY, { createHTML: (s) => s }) : null;
  }
  return (policy ? policy.createHTML(text) : text) as string;
}

/** A sandboxed frame showing `text` as a document. */
export function sandboxFrame(text: string, title: string): HTMLElement {
  const frame = h('iframe', {
    class: 'sandbox',
    id: 'sandbox-frame',
    sandbox: '',
    referrerpolicy: 'no-referrer',
    title: `Sandboxed preview of ${title}`,
  });
  frame.srcdoc = toSrcdoc(text);
  return h(
    'div',
    { class: 'sandbox-wrap' },
    h(
      'p',
      { class: 'muted small' },
      'Shown in a sandbox: scripts, forms and network loads are blocked, so styles or images may be missing. Download to see it in full.',
    ),
    frame,
  );
}
