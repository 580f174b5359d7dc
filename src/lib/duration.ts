import { InvalidInputError } from './errors.js';

const UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/** Longest duration accepted anywhere (100 years), so dates stay representable. */
export const MAX_DURATION_MS = 100 * 365 * 86_400_000;

/**
 * Parses `30s`, `15m`, `24h`, `7d`, `2w`, `500ms` (or a bare number of seconds) into
 * milliseconds. Throws InvalidInputError(`invalid_duration`) for anything else, for zero and
 * for durations over 100 years.
 */
export function parseDuration(text: string, what = 'duration'): number {
  const m = /^(\d{1,12})(ms|s|m|h|d|w)?$/.exec(text.trim());
  if (!m) {
    throw new InvalidInputError(
      'invalid_duration',
      `${what} '${truncate(text)}' is not a duration; use a number and a unit like 30s, 15m, 24h or 7d`,
    );
  }
  const ms = Number(m[1]) * UNITS[m[2] ?? 's'];
  if (ms <= 0 || ms > MAX_DURATION_MS) {
    throw new InvalidInputError(
      'invalid_duration',
      `${what} '${truncate(text)}' must be greater than zero and at most 100 years`,
    );
  }
  return ms;
}

/** Formats milliseconds as the largest whole unit, e.g. 90000 → "90s", 86400000 → "1d". */
export function formatDuration(ms: number): string {
  for (const unit of ['w', 'd', 'h', 'm', 's'] as const) {
    if (ms % UNITS[unit] === 0) return `${ms / UNITS[unit]}${unit}`;
  }
  return `${ms}ms`;
}

/** Shortens user text that is echoed back in an error message. */
export function truncate(text: string, max = 64): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
