/** Where an expensive where= looks: a metadata key no artifact has. */
export const MISSING_KEY = 'nokey';

/**
 * The costliest `where=` expressions found inside the length and nesting limits: every term
 * tests every artifact (no term implies an equality the planner could drive from), so each
 * costs artifacts × terms — seconds at 10,000 artifacts. Refused with 400
 * `query_too_expensive` once past the query budget (expensive-query.test.ts), and meanwhile
 * they must hold nothing else up. Raw text, not URL-encoded.
 */
export function expensiveWheres(): [string, string][] {
  const k = MISSING_KEY;
  const upTo = (terms: string[], sep: string): string => {
    let out = terms[0];
    for (const t of terms.slice(1)) {
      if (out.length + sep.length + t.length > 4096) break;
      out += sep + t;
    }
    return out;
  };
  const many = (f: (i: number) => string) => Array.from({ length: 2000 }, (_, i) => f(i));
  return [
    [
      'or-ed equalities',
      upTo(
        many((i) => `${k}='${i}'`),
        ' or ',
      ),
    ],
    [
      'or-ed numeric comparisons',
      upTo(
        many((i) => `${k}>${i}`),
        ' or ',
      ),
    ],
    [
      'or-ed globs',
      upTo(
        many((i) => `${k}~'*${i}*'`),
        ' or ',
      ),
    ],
  ];
}
