/**
 * Text that reads as a number in `where=` (`12`, `-3.5`, `.5`, `1e6`): such metadata values
 * compare as numbers against a number literal. Shared by the parser and every catalog dialect.
 */
export const NUMBER_RE = /^-?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
