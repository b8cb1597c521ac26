import { describe, expect, it } from '@jest/globals';
import { DomainInvariantError } from '../kernel/errors.js';
import {
  isStripeSubscriptionStatus,
  mapStripeSubscription,
  STRIPE_SUBSCRIPTION_STATUSES,
  type StripeSubscriptionFacts,
} from './stripe-subscription.js';

const DAY = 86_400_000;
const NOW = new Date('2026-03-15T12:00:00.000Z');
const at = (days: number): Date => new Date(NOW.getTime() + days * DAY);
const base: StripeSubscriptionFacts = {
  status: 'active',
  cancelAtPeriodEnd: false,
  endedAt: null,
  cancellationReason: null,
  pastDueSince: null,
  now: NOW,
};

describe('mapStripeSubscription (R-SM-2)', () => {
  it.each<[string, Partial<StripeSubscriptionFacts>, string]>([
    ['incomplete', { status: 'incomplete' }, 'free'],
    ['incomplete_expired', { status: 'incomplete_expired' }, 'free'],
    ['trialing', { status: 'trialing' }, 'trialing'],
    ['trialing + cancel_at_period_end', { status: 'trialing', cancelAtPeriodEnd: true }, 'canceled_pending'],
    ['active', { status: 'active' }, 'active'],
    ['active + cancel_at_period_end', { status: 'active', cancelAtPeriodEnd: true }, 'canceled_pending'],
    ['past_due, day 2', { status: 'past_due', pastDueSince: at(-2), failedAttempts: 1 }, 'past_due'],
    ['past_due, no app dunning clock', { status: 'past_due' }, 'past_due'],
    [
      'past_due, day 7 and 3 attempts',
      { status: 'past_due', pastDueSince: at(-7), failedAttempts: 3 },
      'suspended',
    ],
    [
      'past_due, day 8 but 2 attempts',
      { status: 'past_due', pastDueSince: at(-8), failedAttempts: 2 },
      'past_due',
    ],
    ['past_due, day 8, attempts unknown', { status: 'past_due', pastDueSince: at(-8) }, 'suspended'],
    [
      'past_due, custom grace policy',
      { status: 'past_due', pastDueSince: at(-2), gracePolicy: { graceDays: 1, minFailedAttempts: 1 } },
      'suspended',
    ],
    [
      'past_due + cancel_at_period_end',
      { status: 'past_due', cancelAtPeriodEnd: true, pastDueSince: at(-1) },
      'past_due',
    ],
    ['unpaid', { status: 'unpaid' }, 'suspended'],
    ['paused', { status: 'paused' }, 'expired'],
    ['canceled at period end', { status: 'canceled', cancelAtPeriodEnd: true, endedAt: NOW }, 'expired'],
    [
      'canceled when the period ran out',
      { status: 'canceled', endedAt: NOW, currentPeriodEnd: NOW },
      'expired',
    ],
    ['canceled, period end unknown', { status: 'canceled', endedAt: NOW }, 'expired'],
    [
      'canceled mid-period',
      { status: 'canceled', endedAt: NOW, currentPeriodEnd: at(10) },
      'canceled_immediately',
    ],
    [
      'canceled for failed payment',
      { status: 'canceled', endedAt: NOW, cancellationReason: 'payment_failed', cancelAtPeriodEnd: true },
      'canceled_immediately',
    ],
    [
      'canceled for a dispute',
      { status: 'canceled', cancellationReason: 'payment_disputed' },
      'canceled_immediately',
    ],
    [
      'canceled by request at period end',
      {
        status: 'canceled',
        cancellationReason: 'cancellation_requested',
        endedAt: at(10),
        currentPeriodEnd: at(10),
      },
      'expired',
    ],
  ])('%s -> %s', (_name, facts, expected) => {
    expect(mapStripeSubscription({ ...base, ...facts })).toBe(expected);
  });

  it('knows every Stripe status and throws on an unknown one', () => {
    expect(STRIPE_SUBSCRIPTION_STATUSES).toHaveLength(8);
    for (const status of STRIPE_SUBSCRIPTION_STATUSES) expect(isStripeSubscriptionStatus(status)).toBe(true);
    expect(isStripeSubscriptionStatus('ended')).toBe(false);
    const facts = { ...base, status: 'ended' } as unknown as StripeSubscriptionFacts;
    expect(() => mapStripeSubscription(facts)).toThrow(DomainInvariantError);
  });
});
