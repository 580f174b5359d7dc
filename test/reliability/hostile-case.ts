/**
 * What every part of the hostile corpus shares: the case shape and the fixtures it names.
 */

/** One hostile request and what it must get: a 4xx (exactly `status` when given). */
export interface HostileCase {
  name: string;
  method: string;
  /** Sent as written (no normalization of `..` or percent-escapes). */
  path: string;
  body?: string | Buffer;
  headers?: Record<string, string>;
  /** Which token to send: admin (default), read, write, scoped (write on run_*), none. */
  as?: 'admin' | 'read' | 'write' | 'scoped' | 'none';
  /** The status it must get: a 4xx, or 501 for a transfer coding the server does not speak. */
  status?: number;
  /**
   * Sent as these bytes on a bare socket instead (heads an HTTP client would not write: no
   * Host, two of them, other transfer codings); `TOKEN` is replaced by the admin token.
   */
  raw?: string;
}

/** A marker in traversal payloads: no file with it may appear anywhere after the run. */
export const MARK = 'cairnescape7';

/** An artifact id that is never stored. */
export const ID = 'a_01J00000000000000000000000';
/** A sha256 no stored blob has. */
export const SHA0 = '0'.repeat(64);
/** sha256 of 'seed', the bytes the test pushes into session `ok`. */
export const SEED_SHA = '19b25856e1c150ca834cffc8b59b23adbd0ec0389e58eb22b3b64768098d002b';
/** The JSON content-type header. */
export const json = { 'Content-Type': 'application/json' };
