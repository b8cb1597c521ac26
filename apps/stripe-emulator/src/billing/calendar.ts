/**
 * Billing-period arithmetic in UTC, as Stripe does it: every period boundary is computed from the
 * billing cycle anchor (never from the previous boundary), and a day of month that does not exist in
 * the target month is clamped to that month's last day (Jan 31 -> Feb 28/29 -> Mar 31).
 * All times are unix seconds.
 */

export type Interval = 'day' | 'week' | 'month' | 'year';

export interface Recurrence {
  readonly interval: Interval;
  readonly intervalCount: number;
}

export interface Period {
  readonly start: number;
  readonly end: number;
}

const DAY = 86_400;

export function isInterval(value: unknown): value is Interval {
  return value === 'day' || value === 'week' || value === 'month' || value === 'year';
}

export function daysInMonth(year: number, monthIndex: number): number {
  return new Date(Date.UTC(year, monthIndex + 1, 0)).getUTCDate();
}

/** Adds `months` calendar months to `anchor`, clamping the anchor's day of month, time of day kept. */
export function addMonthsClamped(anchor: number, months: number): number {
  const d = new Date(anchor * 1000);
  const totalMonths = d.getUTCFullYear() * 12 + d.getUTCMonth() + months;
  const year = Math.floor(totalMonths / 12);
  const month = totalMonths - year * 12;
  const day = Math.min(d.getUTCDate(), daysInMonth(year, month));
  return Date.UTC(year, month, day, d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()) / 1000;
}

/** The `k`-th period boundary after `anchor` (k = 0 is the anchor itself). */
export function boundary(anchor: number, recurrence: Recurrence, k: number): number {
  const steps = k * recurrence.intervalCount;
  switch (recurrence.interval) {
    case 'day':
      return anchor + steps * DAY;
    case 'week':
      return anchor + steps * 7 * DAY;
    case 'month':
      return addMonthsClamped(anchor, steps);
    case 'year':
      return addMonthsClamped(anchor, steps * 12);
  }
}

/** The end of the period that starts at the anchor-aligned boundary `start`. */
export function periodEndAfter(anchor: number, recurrence: Recurrence, start: number): number {
  const k = indexOf(anchor, recurrence, start);
  return boundary(anchor, recurrence, k + 1);
}

/** Index k of the period [boundary(k), boundary(k+1)) that contains `t` (t >= anchor). */
export function indexOf(anchor: number, recurrence: Recurrence, t: number): number {
  if (t < anchor) return -1;
  // Estimate, then correct: calendar months vary in length, so walk at most a few steps.
  const approxSeconds =
    recurrence.interval === 'day'
      ? DAY
      : recurrence.interval === 'week'
        ? 7 * DAY
        : recurrence.interval === 'month'
          ? 30 * DAY
          : 365 * DAY;
  let k = Math.max(0, Math.floor((t - anchor) / (approxSeconds * recurrence.intervalCount)) - 1);
  while (boundary(anchor, recurrence, k + 1) <= t) k += 1;
  while (k > 0 && boundary(anchor, recurrence, k) > t) k -= 1;
  return k;
}

/** The anchor-aligned period containing `t`. */
export function periodContaining(anchor: number, recurrence: Recurrence, t: number): Period {
  const k = Math.max(0, indexOf(anchor, recurrence, t));
  return { start: boundary(anchor, recurrence, k), end: boundary(anchor, recurrence, k + 1) };
}

/** Seconds in `days` days, for trial lengths and retry offsets. */
export function days(n: number): number {
  return n * DAY;
}

export const SECONDS_PER_DAY = DAY;
export const SECONDS_PER_HOUR = 3_600;
