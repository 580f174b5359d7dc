/**
 * AST of the `where=` expression language (DESIGN §2). The parser lives in where-parser.ts;
 * each catalog compiles the AST its own way (SQLite: parameterized SQL).
 */
export type WhereExpr =
  | { kind: 'and' | 'or'; left: WhereExpr; right: WhereExpr }
  | { kind: 'not'; expr: WhereExpr }
  | { kind: 'cmp'; field: WhereField; op: CmpOp; value: string | number }
  | { kind: 'glob'; field: WhereField; pattern: string }
  | { kind: 'in'; field: WhereField; values: (string | number)[] }
  | { kind: 'exists'; field: WhereField };

/** Comparison operators. Numeric comparison applies when both sides are numbers. */
export type CmpOp = '=' | '!=' | '<' | '<=' | '>' | '>=';

/**
 * A field: a metadata key (`agent`, or `meta.agent`) or a built-in column
 * (`name`, `session`, `type`, `size`, `version`, `created_at`, `sha256`, `id`).
 */
export type WhereField = { kind: 'meta'; key: string } | { kind: 'column'; column: string };
