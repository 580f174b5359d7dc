import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Catalog } from '../../src/catalog/catalog.js';
import { PgCatalog } from '../../src/catalog/postgres/pg-catalog.js';
import { SqliteCatalog } from '../../src/catalog/sqlite/sqlite-catalog.js';
import { artifactRecord, sessionRecord } from '../../src/core/records.js';
import type { ArtifactRecord, SessionRecord } from '../../src/core/types.js';
import type { CmpOp, WhereExpr, WhereField } from '../../src/core/where.js';
import { parseWhere } from '../../src/core/where-parser.js';
import { InvalidInputError } from '../../src/lib/errors.js';
import { newId } from '../../src/lib/ids.js';
import { freshPgDatabase } from '../helpers/engines/pg.js';
import { startTestServer, tempDir, type TestServer } from '../helpers/server.js';
import { evaluate, print } from './where-eval.js';

let catalog: Catalog;
let run = 0;
const NOW = Date.parse('2030-01-01T00:00:00Z');

/** Every catalog dialect of where= must give the evaluator's answers. */
const BACKENDS: [string, () => Promise<Catalog>][] = [
  ['SQL (SQLite)', async () => SqliteCatalog.open({ dir: tempDir(), durability: 'process' })],
  ['SQL (PostgreSQL)', async () => PgCatalog.open({ url: await freshPgDatabase() })],
];

// Values chosen to hit the interesting cases: numbers in several spellings, text that looks
// almost numeric, case, non-ASCII (UTF-8 order differs from UTF-16 above U+FFFF), glob chars.
const VALUES = [
  '0',
  '1',
  '10',
  '2.5',
  '-3',
  '1e2',
  '.5',
  '007',
  '1.',
  '',
  ' 1',
  'a',
  'B',
  'b',
  'claude',
  'claude-3',
  'é',
  '😀',
  '\uffff',
  'a*b',
  'x[1]',
];
const KEYS = ['agent', 'score', 'stage', 'name'];
const NUMBERS = [0, 1, 2.5, -3, 10, 100, 0.5, 7, 1e21];
const GLOBS = [
  '*',
  'a*',
  '*a*',
  '?',
  'c?aude*',
  '[ab]',
  '[^a]*',
  '[0-9]*',
  '*[!]',
  'x[[]1]',
  'é*',
  '😀',
  '[^]a]*',
  '[]a]*',
  '[a-]*',
  'a[',
  '[]',
  '[z-a]*',
  '[-0]*',
  '[^]',
  '[😀-😀]',
  '*[?]*',
];

const metaArb = fc.dictionary(fc.constantFrom(...KEYS), fc.constantFrom(...VALUES), {
  maxKeys: 4,
});

const artifactField: fc.Arbitrary<WhereField> = fc.oneof(
  fc.constantFrom(...KEYS).map((key) => ({ kind: 'meta' as const, key })),
  fc.constantFrom('name', 'size', 'version', 'type', 'created_at').map((column) => ({
    kind: 'column' as const,
    column,
  })),
);
const sessionField: fc.Arbitrary<WhereField> = fc.oneof(
  fc.constantFrom(...KEYS).map((key) => ({ kind: 'meta' as const, key })),
  fc.constantFrom('sealed', 'artifact_count', 'total_bytes', 'created_at').map((column) => ({
    kind: 'column' as const,
    column,
  })),
);
const literalArb = fc.oneof(fc.constantFrom(...VALUES), fc.constantFrom(...NUMBERS));

function exprArb(fieldArb: fc.Arbitrary<WhereField>): fc.Arbitrary<WhereExpr> {
  const leaf: fc.Arbitrary<WhereExpr> = fc.oneof(
    fc.record({
      kind: fc.constant('cmp' as const),
      field: fieldArb,
      op: fc.constantFrom<CmpOp>('=', '!=', '<', '<=', '>', '>='),
      value: literalArb,
    }),
    fc.record({
      kind: fc.constant('glob' as const),
      field: fieldArb,
      pattern: fc.constantFrom(...GLOBS),
    }),
    fc.record({
      kind: fc.constant('in' as const),
      field: fieldArb,
      values: fc.array(literalArb, { minLength: 1, maxLength: 4 }),
    }),
    fc.record({ kind: fc.constant('exists' as const), field: fieldArb }),
  );
  const { expr } = fc.letrec<{ expr: WhereExpr }>((tie) => ({
    expr: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      leaf,
      fc.record({
        kind: fc.constantFrom('and' as const, 'or' as const),
        left: tie('expr'),
        right: tie('expr'),
      }),
      fc.record({ kind: fc.constant('not' as const), expr: tie('expr') }),
    ),
  }));
  return expr;
}

const artifactsArb = fc.array(
  fc.record({
    name: fc.constantFrom('a.txt', 'b/c.md', 'claude.json', 'é.csv', 'x[1].bin'),
    meta: metaArb,
    size: fc.constantFrom(0, 1, 10, 99, 100, 2048),
    type: fc.constantFrom(
      'text/plain',
      'application/json',
      'image/png',
      'Text/Plain; charset=utf-8',
      'application/JSON ;x=1',
    ),
    ms: fc.integer({ min: 0, max: 10_000_000 }),
  }),
  { maxLength: 12 },
);

interface Row {
  name: string;
  meta: Record<string, string>;
  size: number;
  type: string;
  ms: number;
}

async function seedArtifacts(rows: Row[]) {
  const session = `prop-${run++}`;
  const recs: ArtifactRecord[] = [];
  for (const r of rows) {
    const createdAt = NOW - 1e9 + r.ms;
    recs.push(
      // As the API gives it: the in-memory evaluator reads records.
      artifactRecord(
        await catalog.addArtifact({
          id: newId('a', createdAt),
          session,
          name: r.name,
          sha256: 'ab'.repeat(32),
          size: r.size,
          contentType: r.type,
          meta: r.meta,
          createdAt,
          expiresAt: null,
          derivedFrom: [],
          sessionExpiresAt: null,
        }),
      ),
    );
  }
  return { session, recs };
}

describe.each(BACKENDS)('where= compiled to %s agrees with an in-memory evaluation', (_, open) => {
  beforeAll(async () => {
    catalog = await open();
  });
  afterAll(async () => {
    await catalog.close();
  });

  it('on artifacts (random data, random expressions)', async () => {
    let selective = 0;
    await fc.assert(
      fc.asyncProperty(artifactsArb, exprArb(artifactField), async (rows, expr) => {
        const { session, recs } = await seedArtifacts(rows);
        const page = await catalog.queryArtifacts({ session, where: expr, limit: 1000 }, NOW);
        const got = page.items.map((a) => a.id).sort();
        const want = recs
          .filter((r) => evaluate(expr, r))
          .map((r) => r.id)
          .sort();
        expect(got, print(expr)).toEqual(want);
        if (got.length > 0 && got.length < recs.length) selective++;
      }),
      { numRuns: 300 },
    );
    // The generators are useful only if many expressions select some rows but not all.
    expect(selective).toBeGreaterThan(30);
  });

  it('on sessions', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({ meta: metaArb, sealed: fc.boolean(), n: fc.integer({ min: 0, max: 3 }) }),
          {
            maxLength: 8,
          },
        ),
        exprArb(sessionField),
        async (rows, expr) => {
          const prefix = `sprop-${run++}-`;
          const recs: SessionRecord[] = [];
          for (const [i, r] of rows.entries()) {
            const id = `${prefix}${i}`;
            await catalog.createSession({ id, meta: r.meta, expiresAt: null, now: NOW - 1000 + i });
            for (let k = 0; k < r.n; k++)
              await catalog.addArtifact({
                id: newId('a', NOW),
                session: id,
                name: `f${k}`,
                sha256: 'cd'.repeat(32),
                size: 7 * k,
                contentType: 'text/plain',
                meta: {},
                createdAt: NOW - 500,
                expiresAt: null,
                derivedFrom: [],
                sessionExpiresAt: null,
              });
            if (r.sealed)
              await catalog.sealSession(id, NOW - 100, () => ({ digest: 'd', signature: 's' }));
            recs.push(sessionRecord((await catalog.getSession(id, NOW))!));
          }
          const page = await catalog.listSessions(
            { idContains: prefix, where: expr, limit: 1000 },
            NOW,
          );
          const got = page.items.map((s) => s.id).sort();
          const want = recs
            .filter((s) => evaluate(expr, s))
            .map((s) => s.id)
            .sort();
          expect(got, print(expr)).toEqual(want);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('parses what it prints back to the same AST', () => {
    fc.assert(
      fc.property(exprArb(artifactField), (expr) => {
        expect(parseWhere(print(expr))).toEqual(expr);
      }),
      { numRuns: 500 },
    );
  });

  it('a long flat chain stays within SQLite limits (500 conditions)', async () => {
    const text = Array.from({ length: 500 }, (_, i) => `k${i % 7}=1`).join(' or ');
    expect(text.length).toBeLessThanOrEqual(4096);
    const { session } = await seedArtifacts([]);
    const page = await catalog.queryArtifacts({ session, where: parseWhere(text), limit: 10 }, NOW);
    expect(page.items).toEqual([]);
  });
});

describe('malformed expressions are 400s that point at the position', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(async () => {
    await s.close();
  });

  it.each([
    ["agent = 'claude' and", 21, 'expected a field name'],
    ["agent = 'claude", 9, 'unterminated string'],
    ['score >= ', 10, 'expected a quoted string or a number'],
    ["agent == 'x'", 8, 'expected a quoted string or a number'],
    ["(agent = 'x'", 13, "expected ')'"],
    ["agent = 'x')", 12, "expected 'and', 'or' or the end"],
    ['Agent exists', 1, 'not a valid metadata key'],
    ["stage in 'qa'", 10, "expected '(' after 'in'"],
    ['name ~ 5', 8, "'~' takes a quoted glob pattern"],
    ['agent ! 1', 7, "unexpected character '!'"],
  ])('%s → position %i', async (expr, pos, words) => {
    expect(() => parseWhere(expr)).toThrow(InvalidInputError);
    const res = await s.fetch(`/v1/artifacts?where=${encodeURIComponent(expr)}`);
    expect(res.status).toBe(400);
    const body = (await res.json()) as {
      error: { code: string; message: string; details: { position: number } };
    };
    expect(body.error.code).toBe('invalid_where');
    expect(body.error.message).toContain(`at position ${pos}:`);
    expect(body.error.message).toContain(words);
    expect(body.error.details.position).toBe(pos);
  });

  it('names a column that does not exist for the target', async () => {
    const res = await s.fetch(`/v1/sessions?where=${encodeURIComponent("sha256 = 'x'")}`);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain(
      'meta.sha256',
    );
  });
});
