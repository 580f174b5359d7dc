import { parseDuration } from './duration.js';
import { InvalidInputError } from './errors.js';

/**
 * A point in time as a query gives it: ISO-8601, epoch milliseconds (10 digits or more: a
 * shorter number is far more likely meant as seconds or a duration than as a date in January
 * 1970), or a duration meaning "that long ago". Throws InvalidInputError(`invalid_time`) naming
 * `name` otherwise.
 */
export function parseTime(v: string, name: string, now: number): number {
  if (/^\d{10,15}$/.test(v)) return Number(v);
  if (/^\d+(ms|s|m|h|d|w)$/.test(v)) return now - parseDuration(v, name);
  const t = Date.parse(v);
  if (Number.isNaN(t) || !/^\d{4}-\d{2}-\d{2}/.test(v)) {
    throw new InvalidInputError(
      'invalid_time',
      `${name} must be an ISO-8601 time (2026-01-31T12:00:00Z), epoch milliseconds (13 digits, like 1767225600000) or a duration ago like 1h`,
    );
  }
  return t;
}
