/**
 * What a catalog holds, kind by kind, in the backend-neutral shape of a logical backup
 * (`cairn backup`, `cairn restore`, `cairn migrate`). Times are epoch milliseconds; names are
 * those of the JSON Lines in the backup tar, so changing one changes the format.
 *
 * The kinds come in this order, which is also the order a restore must write them (each may
 * refer to the ones before it): a blob before the artifacts that reference it, a session
 * before its artifacts and counters.
 */
export const DUMP_KINDS = [
  'blobs',
  'sessions',
  'artifacts',
  'version_counters',
  'tokens',
  'shares',
  'artifacta_ids',
  'artifacta_pages',
  'idempotency',
  'secrets',
] as const;

/** One kind of catalog content (see {@link DUMP_KINDS}). */
export type DumpKind = (typeof DUMP_KINDS)[number];
