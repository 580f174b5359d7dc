import type { Readable } from 'node:stream';
import { CairnApiError } from './send-request.js';

/**
 * Reads the `SHA256 NAME\n` lines of `GET /v1/sessions/{sid}/latest` into a map by name, chunk
 * by chunk. A body that does not end in `\n` was cut short (the server stopped mid-answer):
 * CairnApiError `truncated`, never a partial map taken for the whole.
 */
export async function readLatestLines(res: Readable): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  let rest = '';
  res.setEncoding('utf8');
  for await (const chunk of res as AsyncIterable<string>) {
    const text = rest + chunk;
    let start = 0;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
      // 64 hex digits, a space, the name.
      if (nl - start > 65) out.set(text.slice(start + 65, nl), text.slice(start, start + 64));
      start = nl + 1;
    }
    rest = text.slice(start);
  }
  if (rest !== '')
    throw new CairnApiError(
      0,
      'truncated',
      'the list of latest artifacts was cut short; try again',
    );
  return out;
}
