import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/server.js';

// The layering of DESIGN §5, checked on the source: core knows the catalog and blob store only
// by their interfaces, backends know core only by its types (and its pure lifecycle rules), and the HTTP and MCP adapters go
// through core instead of reading the stores around it. A finding names file and line.

const SRC = join(ROOT, 'src');

interface Import {
  file: string;
  line: number;
  /** Imported module, relative to src/ (e.g. core/types.ts), or a package name. */
  target: string;
  typeOnly: boolean;
}

function sourceFiles(dir = SRC): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return e.name.endsWith('.ts') ? [relative(SRC, p)] : [];
  });
}

/** The source without comments (strings are kept: import paths live in them). */
function code(text: string): string {
  return text
    .replace(/\/\*[\s\S]*?\*\//g, (m) => m.replace(/[^\n]/g, ' '))
    .replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

/** Static imports and re-exports, and dynamic `import('...')`, of one file. */
function importsOf(file: string): Import[] {
  const text = code(readFileSync(join(SRC, file), 'utf8'));
  const found: Import[] = [];
  const lineAt = (i: number) => text.slice(0, i).split('\n').length;
  const add = (spec: string, i: number, typeOnly: boolean) => {
    const target = spec.startsWith('.') ? relative(SRC, resolve(SRC, dirname(file), spec)) : spec;
    found.push({ file, line: lineAt(i), target: target.replace(/\.js$/, '.ts'), typeOnly });
  };
  for (const m of text.matchAll(
    /\b(import|export)\s+(type\s+)?([^'";]*?)\s+from\s+['"]([^'"]+)['"]/g,
  )) {
    const names = m[3].replace(/^\{|\}$/g, '').trim();
    const allTypes =
      names.startsWith('{') || names.includes('{')
        ? names
            .replace(/[{}]/g, '')
            .split(',')
            .map((n) => n.trim())
            .filter(Boolean)
            .every((n) => n.startsWith('type '))
        : false;
    add(m[4], m.index, Boolean(m[2]) || allTypes);
  }
  for (const m of text.matchAll(/\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g))
    add(m[1], m.index, false);
  for (const m of text.matchAll(/^import\s+['"]([^'"]+)['"]/gm)) add(m[1], m.index, false);
  return found;
}

const FILES = sourceFiles();
const IMPORTS = FILES.flatMap(importsOf);
const under = (dir: string) => (p: string) => p.startsWith(`${dir}/`);
const show = (i: Import) =>
  `${i.file}:${i.line} imports ${i.target}${i.typeOnly ? ' (types)' : ''}`;

/** A backend interface file: directly in catalog/ or blobs/, and not a registry. */
const isStoreInterface = (p: string) =>
  /^(catalog|blobs)\/[^/]+\.ts$/.test(p) && !p.endsWith('-registry.ts');
const isStore = (p: string) => under('catalog')(p) || under('blobs')(p);
/** The pure lifecycle rules, the one part of core a backend may call (it computes them too). */
const LIFECYCLE = 'core/lifecycle.ts';

/** The one formatter from catalog rows to API records. */
const RECORDS = 'core/records.ts';
/** The API record types (core/types.ts), which no catalog returns. */
const API_RECORD = /\b(ArtifactRecord|SessionRecord|TokenRecord)\b/;

/** An adapter line reaching the stores: `app.catalog`, `x.catalog.y`, `{ blobs } = app`. */
const STORE_USE = [
  /\bapp\??\.(catalog|blobs)\b/,
  /\.catalog\??\./,
  /\{[^}]*\b(catalog|blobs)\b[^}]*\}\s*=\s*[\w.]*\bapp\b/,
];

describe('layers', () => {
  it('finds the imports it checks', () => {
    // A parser that found nothing would pass every rule below.
    expect(FILES.length).toBeGreaterThan(100);
    expect(IMPORTS.filter((i) => i.file === 'app.ts').map((i) => i.target)).toContain(
      'catalog/catalog-registry.ts',
    );
    expect(
      IMPORTS.find(
        (i) => i.file === 'core/artifact-service.ts' && i.target === 'catalog/catalog.ts',
      )?.typeOnly,
    ).toBe(true);
  });

  it('core imports neither the adapters nor store implementations, and stores only by types', () => {
    const bad = IMPORTS.filter(
      (i) =>
        under('core')(i.file) &&
        (/^(server|mcp|cli|web|client|binary)\//.test(i.target) ||
          i.target === 'app.ts' ||
          (isStore(i.target) && !(isStoreInterface(i.target) && i.typeOnly))),
    );
    expect(bad.map(show)).toEqual([]);
  });

  it('catalog and blob stores import core only for its types and lifecycle rules, and never the adapters', () => {
    const bad = IMPORTS.filter(
      (i) =>
        isStore(i.file) &&
        ((under('core')(i.target) && !i.typeOnly && i.target !== LIFECYCLE) ||
          /^(server|mcp|cli|web|client|binary)\//.test(i.target) ||
          i.target === 'app.ts'),
    );
    expect(bad.map(show)).toEqual([]);
  });

  it('catalogs return their own rows: the API records and their formatter (core/records.ts) stay in core', () => {
    // One formatter for every backend: a catalog that built API records itself (or called
    // core's formatter) would make two backends' output agree only by care.
    const bad = IMPORTS.filter((i) => isStore(i.file) && i.target === RECORDS).map(show);
    for (const file of FILES.filter(isStore)) {
      const lines = code(readFileSync(join(SRC, file), 'utf8')).split('\n');
      lines.forEach((l, n) => {
        if (API_RECORD.test(l)) bad.push(`${file}:${n + 1}: ${l.trim()}`);
      });
    }
    expect(bad).toEqual([]);
  });

  it('only the wiring (app.ts, the registries, the binary entry) names store implementations', () => {
    const bad = IMPORTS.filter(
      (i) =>
        /^(catalog|blobs)\/[^/]+\//.test(i.target) &&
        !isStore(i.file) &&
        !(i.file === 'app.ts' && i.typeOnly === false && i.target.startsWith('blobs/tiered/')) &&
        // The single binary's entry registers the SQLite read worker it embeds as an asset.
        !(i.file === 'binary/sea-main.ts' && i.target === 'catalog/sqlite/read-worker-script.ts'),
    );
    expect(bad.map(show)).toEqual([]);
  });

  it('the lifecycle rules that backends use (core/lifecycle.ts) are pure: they import nothing', () => {
    expect(FILES).toContain(LIFECYCLE);
    expect(IMPORTS.filter((i) => i.file === LIFECYCLE).map(show)).toEqual([]);
  });

  it('the HTTP and MCP adapters go through core, never around it to the stores', () => {
    const bad: string[] = [];
    for (const file of FILES.filter((f) => under('server')(f) || under('mcp')(f))) {
      const lines = code(readFileSync(join(SRC, file), 'utf8')).split('\n');
      lines.forEach((l, n) => {
        if (STORE_USE.some((re) => re.test(l))) bad.push(`${file}:${n + 1}: ${l.trim()}`);
      });
    }
    const imports = IMPORTS.filter(
      (i) =>
        (under('server')(i.file) || under('mcp')(i.file)) &&
        isStore(i.target) &&
        !(isStoreInterface(i.target) && i.typeOnly),
    );
    expect([...bad, ...imports.map(show)]).toEqual([]);
  });
});
