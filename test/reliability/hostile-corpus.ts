import { type HostileCase } from './hostile-case.js';
import { authCases, shareCases } from './hostile-access-cases.js';
import {
  bodyCases,
  contentTypeCases,
  headerCases,
  methodCases,
  protocolCases,
} from './hostile-http-cases.js';
import { paramCases } from './hostile-params.js';
import { hostileBatches } from './hostile-batch.js';

// The corpus is split by concern: hostile-params.ts (values in every parameter),
// hostile-http-cases.ts (headers, framing, methods, bodies), hostile-access-cases.ts (share
// links, tokens); expensive-wheres.ts holds the costly where= expressions.
export { MARK, type HostileCase } from './hostile-case.js';
export { expensiveWheres, MISSING_KEY } from './expensive-wheres.js';

/** The whole corpus (≥ 200 requests). */
export function hostileCorpus(): HostileCase[] {
  return [
    ...paramCases(),
    ...headerCases(),
    ...methodCases(),
    ...bodyCases(),
    ...shareCases(),
    ...authCases(),
    ...contentTypeCases(),
    ...protocolCases(),
    ...hostileBatches(),
  ];
}
