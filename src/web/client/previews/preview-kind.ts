/** Which preview an artifact gets, from its content type and name. */
import { baseType } from '../format.js';

/** The preview kinds the page knows. */
export type PreviewKind =
  'text' | 'markdown' | 'json' | 'csv' | 'tsv' | 'image' | 'sandboxed' | 'binary';

const IMAGES = new Set([
  'image/png',
  'image/jpeg',
  'image/gif',
  'image/webp',
  'image/avif',
  'image/bmp',
  'image/x-icon',
  'image/vnd.microsoft.icon',
]);
const TEXT_TYPES =
  /^(text\/|application\/(x-)?(javascript|ecmascript|typescript|yaml|x-yaml|toml|x-sh|sql|graphql|x-ndjson|jsonl?|ld\+json|x-python|xml))/;
const TEXT_EXT =
  /\.(txt|log|out|err|ya?ml|toml|ini|cfg|conf|py|ts|tsx|js|mjs|cjs|go|rs|rb|java|kt|c|h|cc|cpp|hpp|cs|sh|bash|zsh|sql|diff|patch|env|gitignore|dockerfile|xml|jsonl|ndjson|lock|tex|rst|org)$/i;

/**
 * Picks the preview: active types (HTML, SVG, XML with stylesheets…) only ever go to a sandboxed
 * frame; unknown types are offered as a download (or sniffed as text by the caller).
 */
export function previewKind(contentType: string, name: string): PreviewKind {
  const t = baseType(contentType);
  const n = name.toLowerCase();
  if (t === 'text/html' || t === 'application/xhtml+xml' || t === 'image/svg+xml')
    return 'sandboxed';
  if (IMAGES.has(t)) return 'image';
  if (t === 'text/markdown' || t === 'text/x-markdown' || /\.(md|markdown)$/.test(n))
    return 'markdown';
  if (t === 'application/json' || t.endsWith('+json') || n.endsWith('.json')) return 'json';
  if (t === 'text/csv' || n.endsWith('.csv')) return 'csv';
  if (t === 'text/tab-separated-values' || n.endsWith('.tsv')) return 'tsv';
  if (TEXT_TYPES.test(t) || TEXT_EXT.test(n)) return 'text';
  return 'binary';
}

/** True if the first bytes look like text (valid UTF-8, no NUL). */
export function looksLikeText(bytes: Uint8Array): boolean {
  if (bytes.includes(0)) return false;
  try {
    // A multi-byte character cut at the end of the sample is fine.
    new TextDecoder('utf-8', { fatal: true }).decode(
      bytes.subarray(0, Math.max(0, bytes.length - 4)),
    );
    return true;
  } catch {
    return false;
  }
}
