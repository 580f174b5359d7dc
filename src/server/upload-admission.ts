import type { ServerResponse } from 'node:http';
import { BusyError, TooLargeError } from '../lib/errors.js';
import type { MemoryBudget } from '../lib/memory-budget.js';
import { formatBytes } from '../lib/size.js';

/** What each response in flight holds, released at once when it finishes or closes. */
const held = new WeakMap<ServerResponse, number>();

/**
 * Reserves `bytes` of the server's memory for requests in flight until `res` has finished or
 * closed, or throws 503 `upload_memory_full` (with `Retry-After`) if the reservation would pass
 * the budget: the request is refused before its body is read. `what` names the request in the
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
  // One release per response, however many entries a batch reserves for: when the answer has
  // been handed to the kernel ('finish', so before the client can read it and send the next
  // request) or the connection closes without one ('close').
  if (before === undefined) {
    const release = () => {
      budget.release(held.get(res) ?? 0);
      held.delete(res);
      res.off('finish', release);
      res.off('close', release);
    };
    res.once('finish', release);
    res.once('close', release);
  }
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
