/**
 * The retry (dunning) policy as data. Attempts happen on the given days after the FIRST failed
 * attempt (day 0 is that first attempt itself); after the last one fails the subscription takes
 * `finalStatus`. Stripe's dashboard equivalent is "Manage failed payments"; its default is to cancel.
 */
import { SECONDS_PER_DAY } from './calendar.js';

export type FinalDunningStatus = 'past_due' | 'unpaid' | 'canceled';

export interface RetryPolicy {
  /** Attempt days after the first failure, strictly increasing, starting with 0. */
  readonly attemptDays: readonly number[];
  readonly finalStatus: FinalDunningStatus;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { attemptDays: [0, 3, 5], finalStatus: 'canceled' };

export class RetryPolicyError extends Error {}

export function isFinalDunningStatus(value: unknown): value is FinalDunningStatus {
  return value === 'past_due' || value === 'unpaid' || value === 'canceled';
}

/** Validates and normalises a policy: day 0 is implied, days strictly increase. */
export function makeRetryPolicy(
  attemptDays: readonly number[],
  finalStatus: FinalDunningStatus,
): RetryPolicy {
  const days = attemptDays[0] === 0 ? [...attemptDays] : [0, ...attemptDays];
  for (let i = 0; i < days.length; i += 1) {
    const d = days[i];
    if (d === undefined || !Number.isInteger(d) || d < 0) {
      throw new RetryPolicyError(`retry days must be non-negative integers, got ${String(d)}`);
    }
    if (i > 0 && d <= (days[i - 1] ?? -1)) {
      throw new RetryPolicyError('retry days must be strictly increasing');
    }
  }
  if (!isFinalDunningStatus(finalStatus)) {
    throw new RetryPolicyError(`final status must be past_due, unpaid or canceled`);
  }
  return { attemptDays: days, finalStatus };
}

/** Parses `"0,3,5"` and a final status, as read from the environment or the admin endpoint. */
export function parseRetryPolicy(
  days: string | undefined,
  finalStatus: string | undefined,
  fallback: RetryPolicy = DEFAULT_RETRY_POLICY,
): RetryPolicy {
  const parsedDays =
    days === undefined || days.trim() === ''
      ? fallback.attemptDays
      : days.split(',').map((part) => {
          const n = Number(part.trim());
          if (!Number.isInteger(n)) throw new RetryPolicyError(`not a whole number of days: ${part}`);
          return n;
        });
  const status = finalStatus === undefined || finalStatus === '' ? fallback.finalStatus : finalStatus;
  if (!isFinalDunningStatus(status)) {
    throw new RetryPolicyError(`final status must be past_due, unpaid or canceled, got ${status}`);
  }
  return makeRetryPolicy(parsedDays, status);
}

export type AttemptOutcome =
  | { readonly kind: 'retry'; readonly nextAttemptAt: number }
  | { readonly kind: 'final'; readonly finalStatus: FinalDunningStatus };

/**
 * What follows the `attemptCount`-th failed attempt (1-based) when the first one failed at
 * `firstFailureAt`: another attempt at a scheduled time, or the end of dunning.
 */
export function afterFailedAttempt(
  policy: RetryPolicy,
  firstFailureAt: number,
  attemptCount: number,
): AttemptOutcome {
  const nextDay = policy.attemptDays[attemptCount];
  if (nextDay === undefined) return { kind: 'final', finalStatus: policy.finalStatus };
  return { kind: 'retry', nextAttemptAt: firstFailureAt + nextDay * SECONDS_PER_DAY };
}
