import { z } from 'zod';

/**
 * Zod schemas shared by the MCP tools: argument pieces and the shapes of Cairn records in
 * `structuredContent`. Records are loose objects: the server may add fields, and a client
 * validating our output schema must not reject them.
 */

/**
 * `key=value` labels. A `__proto__` key is refused here: zod's record drops it silently, so
 * the push would succeed without it and the caller would never know.
 */
export const metaSchema = z
  .preprocess(
    (v, ctx) => {
      if (typeof v === 'object' && v !== null && Object.hasOwn(v, '__proto__'))
        ctx.addIssue({
          code: 'custom',
          message: "metadata key '__proto__' is invalid: keys are lowercase [a-z0-9_.-]",
        });
      return v;
    },
    z.record(z.string(), z.string()),
  )
  .describe('Metadata labels as {"key": "value"}; keys are lowercase [a-z0-9_.-], values strings');

/** A duration like 30s, 15m, 24h, 7d. */
export const ttlSchema = z
  .string()
  .describe('Time to live: a duration like 30m, 24h or 7d; after it the item disappears');

/** A session id. */
export const sessionIdSchema = z
  .string()
  .describe('Session id, e.g. run_42 (letters, digits and . _ : -; up to 128 characters)');

/** An artifact name inside a session. */
export const artifactNameSchema = z
  .string()
  .describe('Artifact name inside the session: a relative path like report.md or out/data.csv');

/** An artifact id. */
export const artifactIdSchema = z.string().describe('Artifact id, e.g. a_01J9Z…');

/** A stored artifact as the API returns it. */
export const artifactSchema = z.looseObject({
  id: z.string(),
  session: z.string(),
  name: z.string(),
  version: z.number().int(),
  sha256: z.string(),
  size: z.number().int(),
  content_type: z.string(),
  meta: z.record(z.string(), z.string()),
  created_at: z.string(),
  expires_at: z.string().nullable(),
  derived_from: z.array(z.string()),
});

/** A session as the API returns it. */
export const sessionSchema = z.looseObject({
  id: z.string(),
  meta: z.record(z.string(), z.string()),
  created_at: z.string(),
  updated_at: z.string(),
  expires_at: z.string().nullable(),
  sealed: z.boolean(),
  sealed_at: z.string().nullable(),
  digest: z.string().nullable(),
  artifact_count: z.number().int(),
  total_bytes: z.number().int(),
});

/**
 * The target of a read: `id`, or `session` + `name` (+ `version`). Kept as plain optional
 * fields (an MCP input schema must be an object); the tools check the combination.
 */
export const artifactRefShape = {
  id: artifactIdSchema.optional(),
  session: sessionIdSchema.optional(),
  name: artifactNameSchema.optional(),
};
