import {
  initialSubscription,
  type SubscriptionSnapshot,
  type SubscriptionState,
} from './subscription.types.js';

/** Shared by the subscription specs (not part of the library: excluded from the build and coverage). */
export const DAY = 86_400_000;
export const NOW = new Date('2026-03-15T12:00:00.000Z');
export const at = (days: number): Date => new Date(NOW.getTime() + days * DAY);

// ---- Canonical snapshots, one per state (the subscription is Pro yearly with 1 add-on seat). ----
const freeTier = (state: 'free' | 'expired' | 'canceled_immediately'): SubscriptionSnapshot => ({
  ...initialSubscription(),
  state,
  version: 4,
});
const live = {
  planId: 'pro',
  interval: 'year',
  seats: 1,
  trialUsed: true,
  failedAttempts: 0,
  version: 4,
} as const;
export const SNAPSHOTS: Record<SubscriptionState, SubscriptionSnapshot> = {
  free: freeTier('free'),
  expired: freeTier('expired'),
  canceled_immediately: freeTier('canceled_immediately'),
  trialing: { ...live, state: 'trialing', seats: 0, trialEnd: at(10), currentPeriodEnd: at(10) },
  active: { ...live, state: 'active', currentPeriodEnd: at(20) },
  past_due: { ...live, state: 'past_due', currentPeriodEnd: at(20), pastDueSince: at(-8), failedAttempts: 3 },
  suspended: {
    ...live,
    state: 'suspended',
    currentPeriodEnd: at(20),
    pastDueSince: at(-8),
    failedAttempts: 3,
  },
  canceled_pending: { ...live, state: 'canceled_pending', currentPeriodEnd: at(20) },
};
