/** How long a trial runs (R-SUB-1), in days of the account's calendar. */
export const TRIAL_DAYS = 14;

const DAY_MS = 86_400_000;

/** The wall-clock fields of `instant` in `timeZone`, read as if they were UTC (ms). */
function wallClockAsUtc(instant: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(new Date(instant));
  const field = (type: Intl.DateTimeFormatPartTypes): number =>
    Number(parts.find((p) => p.type === type)?.value ?? NaN);
  return Date.UTC(
    field('year'),
    field('month') - 1,
    field('day'),
    field('hour'),
    field('minute'),
    field('second'),
    instant % 1000 < 0 ? (instant % 1000) + 1000 : instant % 1000,
  );
}

/** The UTC offset of `timeZone` at `instant`, in ms (Pacific/Kiritimati: +14 h; America/Adak: −10 h or −9 h). */
export function zoneOffsetMs(instant: number, timeZone: string): number {
  return wallClockAsUtc(instant, timeZone) - instant;
}

/**
 * The instant a local day starts: 00:00 of `date` (y, m 1-12, d, overflow allowed) in `timeZone`.
 * Across a DST change the offset is taken at the result, so the answer is the local midnight itself;
 * where a zone skips midnight, the first instant of that day.
 */
export function startOfLocalDay(year: number, month: number, day: number, timeZone: string): Date {
  const wall = Date.UTC(year, month - 1, day);
  let at = wall - zoneOffsetMs(wall, timeZone);
  at = wall - zoneOffsetMs(at, timeZone);
  // A skipped midnight (the offset moved forward at 00:00): the day starts at the gap's end.
  if (wallClockAsUtc(at, timeZone) < wall) at = wall - zoneOffsetMs(at + DAY_MS / 24, timeZone);
  return new Date(at);
}

/**
 * When a trial started at `now` ends (R-EDGE-3): at local midnight in the account's time zone, the first
 * one at or after `days` whole days from now, so the account has at least those days and the trial ends
 * as its calendar day turns, wherever it is (Pacific/Kiritimati at UTC+14 ends a day "before" UTC,
 * America/Adak at UTC−10/−9 after it, each at its own 00:00). Returned as the UTC instant Stripe keeps.
 */
export function trialEndFor(now: Date, timeZone: string, days = TRIAL_DAYS): Date {
  const earliest = now.getTime() + days * DAY_MS;
  const local = new Date(wallClockAsUtc(earliest, timeZone));
  const sameDay = startOfLocalDay(
    local.getUTCFullYear(),
    local.getUTCMonth() + 1,
    local.getUTCDate(),
    timeZone,
  );
  if (sameDay.getTime() >= earliest) return sameDay;
  return startOfLocalDay(local.getUTCFullYear(), local.getUTCMonth() + 1, local.getUTCDate() + 1, timeZone);
}
