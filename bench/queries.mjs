// The queries bench/query.mjs and bench/pg-query.mjs time over a generated catalog
// (bench/generate-catalog.mjs): 2-key metadata pairs, a where= expression, session listings.

const eq = (pairs) => pairs.map(([key, value]) => ({ key, op: 'eq', value }));
export const WHERE = "agent = 'claude' and (score >= 0.9 or stage in ('qa','prod'))";

/**
 * name → [kind ('a' artifacts, 's' sessions), in-process query, HTTP query string], for a
 * catalog of `count` artifacts; `parseWhere` is build/core/where-parser.js's.
 */
export function benchQueries(count, parseWhere) {
  const lastRun = `run_${String(Math.floor(count / 100) - 58).padStart(6, '0')}`;
  return {
    'selective pair (agent, run)': [
      'a',
      {
        meta: eq([
          ['agent', 'claude'],
          ['run', lastRun],
        ]),
      },
      `meta.agent=claude&meta.run=${lastRun}`,
    ],
    'selective pair (customer, pipeline)': [
      'a',
      {
        meta: eq([
          ['customer', 'c123'],
          ['pipeline', 'p7'],
        ]),
      },
      'meta.customer=c123&meta.pipeline=p7',
    ],
    'unselective pair (agent, stage)': [
      'a',
      {
        meta: eq([
          ['agent', 'claude'],
          ['stage', 'prod'],
        ]),
      },
      'meta.agent=claude&meta.stage=prod',
    ],
    'unselective pair, no match (env, tier)': [
      'a',
      {
        meta: eq([
          ['env', 'prod'],
          ['tier', 'gold'],
        ]),
      },
      'meta.env=prod&meta.tier=gold',
    ],
    'where expression': ['a', { where: parseWhere(WHERE) }, `where=${encodeURIComponent(WHERE)}`],
    "one session's artifacts": ['a', { session: lastRun }, `session=${lastRun}`],
    'session listing': ['s', {}, ''],
    'session listing by meta (team)': ['s', { meta: eq([['team', 'team3']]) }, 'meta.team=team3'],
  };
}
