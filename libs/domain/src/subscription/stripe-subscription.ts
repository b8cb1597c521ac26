import { DomainInvariantError } from '../kernel/errors.js';
import { DEFAULT_GRACE_POLICY, isGraceExhausted, type GracePolicy } from '../dunning/dunning.js';
import type { SubscriptionState } from './subscription.types.js';

/** Every `subscription.status` Stripe sends at the pinned API version. */
export const STRIPE_SUBSCRIPTION_STATUSES = [
  'incomplete',
  'incomplete_expired',
  'trialing',
  'active',
  'past_due',
  'canceled',
  'unpaid',
  'paused',
] as const;
export type StripeSubscriptionStatus = (typeof STRIPE_SUBSCRIPTION_STATUSES)[number];

/** Stripe's `cancellation_details.reason`. */
export type StripeCancellationReason = 'cancellation_requested' | 'payment_disputed' | 'payment_failed';

/** The Stripe facts (plus the app's dunning clock) the mapping reads. */
export interface StripeSubscriptionFacts {
  readonly status: StripeSubscriptionStatus;
  readonly cancelAtPeriodEnd: boolean;
  readonly endedAt: Date | null;
  readonly cancellationReason: StripeCancellationReason | null;
  /** When the app's dunning case started (app clock), null when not in dunning. */
  readonly pastDueSince: Date | null;
  /** Failed attempts the app counted; when omitted only the days of the grace policy count. */
  readonly failedAttempts?: number;
  /** End of the item's current period (since API 2025-03-31 it lives on the subscription item). */
  readonly currentPeriodEnd?: Date | null;
  readonly now: Date;
  readonly gracePolicy?: GracePolicy;
}

/** True for a status string this mapping knows. */
export function isStripeSubscriptionStatus(value: unknown): value is StripeSubscriptionStatus {
  return typeof value === 'string' && (STRIPE_SUBSCRIPTION_STATUSES as readonly string[]).includes(value);
}

/**
 * Stripe subscription -> app state (R-SM-2):
 * - incomplete / incomplete_expired: the first invoice was never paid, so no paid subscription: free;
 * - trialing / active: canceled_pending when cancel_at_period_end is set, else the same name;
 * - past_due: suspended once the app's grace period (days and, when known, attempts) is over;
 * - unpaid: suspended (Stripe stopped retrying and the invoice is still open);
 * - paused: expired (a trial ended without a payment method and Stripe paused it: back to Free);
 * - canceled: canceled_immediately when it ended before its period end or for a payment reason
 *   (dunning exhausted, dispute), expired when it ran out its period (cancel at period end).
 */
export function mapStripeSubscription(facts: StripeSubscriptionFacts): SubscriptionState {
  switch (facts.status) {
    case 'incomplete':
    case 'incomplete_expired':
      return 'free';
    case 'trialing':
      return facts.cancelAtPeriodEnd ? 'canceled_pending' : 'trialing';
    case 'active':
      return facts.cancelAtPeriodEnd ? 'canceled_pending' : 'active';
    case 'past_due': {
      const grace = facts.gracePolicy ?? DEFAULT_GRACE_POLICY;
      return isGraceExhausted(facts, facts.now, grace) ? 'suspended' : 'past_due';
    }
    case 'unpaid':
      return 'suspended';
    case 'paused':
      return 'expired';
    case 'canceled': {
      if (facts.cancellationReason === 'payment_failed' || facts.cancellationReason === 'payment_disputed') {
        return 'canceled_immediately';
      }
      if (facts.cancelAtPeriodEnd) return 'expired';
      const end = facts.currentPeriodEnd;
      if (facts.endedAt && end && facts.endedAt.getTime() < end.getTime()) return 'canceled_immediately';
      return 'expired';
    }
    default: {
      const unknown: never = facts.status;
      throw new DomainInvariantError(`unknown Stripe subscription status '${String(unknown)}'`);
    }
  }
}
