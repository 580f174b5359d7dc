import type { ServerResponse } from 'node:http';
import { BusyError, TooLargeError } from '../lib/errors.js';
import type { MemoryBudget } from '../lib/memory-budget.js';
import { formatBytes } from '../lib/size.js';

/** What each response in flight holds, released at once when it closes (one listener each). */
const held = new WeakMap<ServerResponse, number>();

/**
 * Reserves `bytes` of the server's memory for requests in flight until `res` closes, or
 * throws 503 `upload_memory_full` (with `Retry-After`) if the reservation would pass the
 * budget: the request is refused before its body is read. `what` names the request in the
 * message. Nothing is reserved for 0 bytes.
 */
export function admitToMemory(
  budget: MemoryBudget,
  res: ServerResponse,
  bytes: number,
  what: string,
): void {
  if (bytes <= 0) return;
  if (!budget.tryReserve(bytes))
    throw new BusyError(
      'upload_memory_full',
      `the server is holding as much ${what} data in memory as --max-upload-memory allows (${formatBytes(budget.limit)}); retry in a moment`,
    );
  const before = held.get(res);
  held.set(res, (before ?? 0) + bytes);
  // One listener per response, however many entries a batch reserves for.
  if (before === undefined)
    res.once('close', () => {
      budget.release(held.get(res) ?? 0);
      held.delete(res);
    });
}

/**
 * Like {@link admitToMemory} for a part of a request that must be held whole (an import's
 * JSON document): 413 `payload_too_large` if it could never fit the budget, 503 while the
 * budget is busy.
 */
export function admitWhole(
  budget: MemoryBudget,
  res: ServerResponse,
  bytes: number,
  what: string,
): void {
  if (bytes > budget.limit)
    throw new TooLargeError(
      `the ${what} needs about ${formatBytes(bytes)} of memory, more than --max-upload-memory (${formatBytes(budget.limit)}) allows`,
    );
  admitToMemory(budget, res, bytes, what);
}
