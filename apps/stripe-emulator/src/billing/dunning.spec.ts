import { describe, expect, it } from '@jest/globals';
import {
  afterFailedAttempt,
  DEFAULT_RETRY_POLICY,
  makeRetryPolicy,
  parseRetryPolicy,
  RetryPolicyError,
} from './dunning.js';

const DAY = 86_400;

describe('dunning policy', () => {
  it('by default retries on days 3 and 5 after the first failure, then cancels', () => {
    const t0 = 1_000_000;
    expect(afterFailedAttempt(DEFAULT_RETRY_POLICY, t0, 1)).toEqual({
      kind: 'retry',
      nextAttemptAt: t0 + 3 * DAY,
    });
    expect(afterFailedAttempt(DEFAULT_RETRY_POLICY, t0, 2)).toEqual({
      kind: 'retry',
      nextAttemptAt: t0 + 5 * DAY,
    });
    expect(afterFailedAttempt(DEFAULT_RETRY_POLICY, t0, 3)).toEqual({
      kind: 'final',
      finalStatus: 'canceled',
    });
  });

  it('parses settings from strings and implies day 0', () => {
    expect(parseRetryPolicy('1, 2 ,7', 'unpaid')).toEqual({
      attemptDays: [0, 1, 2, 7],
      finalStatus: 'unpaid',
    });
    expect(parseRetryPolicy(undefined, undefined)).toEqual(DEFAULT_RETRY_POLICY);
    expect(parseRetryPolicy('0', 'past_due')).toEqual({ attemptDays: [0], finalStatus: 'past_due' });
  });

  it('rejects bad settings', () => {
    expect(() => parseRetryPolicy('0,x', 'unpaid')).toThrow(RetryPolicyError);
    expect(() => parseRetryPolicy('0,3', 'deleted')).toThrow(RetryPolicyError);
    expect(() => makeRetryPolicy([0, 3, 3], 'unpaid')).toThrow(RetryPolicyError);
    expect(() => makeRetryPolicy([0, -1], 'unpaid')).toThrow(RetryPolicyError);
  });
});
