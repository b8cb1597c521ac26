import type { GracePolicy } from '../dunning/dunning.js';
import { FREE_PLAN_ID, type BillingInterval, type PlanId } from '../plan/plan.js';

/** The app's subscription states (SPEC section 4). */
export const SUBSCRIPTION_STATES = [
  'free',
  'trialing',
  'active',
  'past_due',
  'suspended',
  'canceled_pending',
  'expired',
  'canceled_immediately',
] as const;
export type SubscriptionState = (typeof SUBSCRIPTION_STATES)[number];

/** States with a live paid (or trial) subscription. */
export const LIVE_STATES = ['trialing', 'active', 'past_due', 'suspended', 'canceled_pending'] as const;
export type LiveState = (typeof LIVE_STATES)[number];

/** States on the Free tier (no live subscription). */
export const FREE_TIER_STATES = ['free', 'expired', 'canceled_immediately'] as const;
export type FreeTierState = (typeof FREE_TIER_STATES)[number];

/** True for trialing, active, past_due, suspended and canceled_pending. */
export function isLiveState(state: SubscriptionState): state is LiveState {
  return (LIVE_STATES as readonly string[]).includes(state);
}

/** True for a known state (for data read from storage). */
export function isSubscriptionState(value: unknown): value is SubscriptionState {
  return typeof value === 'string' && (SUBSCRIPTION_STATES as readonly string[]).includes(value);
}

/** A downgrade (plan or interval) that takes effect at `effectiveAt`, the end of the current period. */
export interface PendingPlanChange {
  readonly planId: PlanId;
  readonly interval: BillingInterval;
  readonly effectiveAt: Date;
}

/** The subscription aggregate as plain data. `version` grows by one on every applied change. */
export interface SubscriptionSnapshot {
  readonly state: SubscriptionState;
  readonly planId: PlanId;
  /** null on the Free tier. */
  readonly interval: BillingInterval | null;
  /** Purchased add-on seats. */
  readonly seats: number;
  /** The account has had its one trial. */
  readonly trialUsed: boolean;
  readonly currentPeriodEnd?: Date;
  readonly trialEnd?: Date;
  readonly pastDueSince?: Date;
  readonly failedAttempts: number;
  readonly pendingPlanChange?: PendingPlanChange;
  readonly version: number;
}

/** A new account: Free, no trial used yet. */
export function initialSubscription(): SubscriptionSnapshot {
  return {
    state: 'free',
    planId: FREE_PLAN_ID,
    interval: null,
    seats: 0,
    trialUsed: false,
    failedAttempts: 0,
    version: 0,
  };
}

/** Commands (from users and schedulers) and events (from Stripe) the machine accepts. */
export type SubscriptionInput =
  | {
      readonly type: 'start_trial';
      readonly planId: PlanId;
      readonly interval: BillingInterval;
      readonly trialEnd: Date;
    }
  /** Checkout completed and the first invoice paid. */
  | {
      readonly type: 'checkout_completed';
      readonly planId: PlanId;
      readonly interval: BillingInterval;
      readonly seats: number;
      readonly currentPeriodEnd: Date;
    }
  | { readonly type: 'trial_ended_paid'; readonly currentPeriodEnd: Date }
  | { readonly type: 'trial_ended_without_payment_method' }
  | { readonly type: 'cancel_at_period_end' }
  | { readonly type: 'resume' }
  | { readonly type: 'cancel_immediately' }
  | { readonly type: 'payment_failed' }
  /** A renewal, retry or outstanding invoice was paid; carries the new period end when known. */
  | { readonly type: 'payment_succeeded'; readonly currentPeriodEnd?: Date }
  /** The dunning schedule reached its suspend step; checked against the grace policy. */
  | { readonly type: 'grace_exhausted'; readonly policy?: GracePolicy }
  | { readonly type: 'period_ended' }
  /**
   * Upgrade (now) or downgrade (at period end); `memberCount` checks the seat rule. A change of the
   * billing interval restarts the billing cycle at Stripe and applies at once in either direction;
   * `currentPeriodEnd` is then the new period's end, when known (Stripe's answer or report).
   */
  | {
      readonly type: 'change_plan';
      readonly planId: PlanId;
      readonly interval: BillingInterval;
      readonly memberCount: number;
      readonly currentPeriodEnd?: Date;
    }
  /** Sets the purchased add-on seats; `memberCount` checks that everyone keeps a seat. */
  | { readonly type: 'change_seats'; readonly seats: number; readonly memberCount: number };

/** The discriminant of a subscription input. */
export type SubscriptionInputType = SubscriptionInput['type'];

/** Every input type, in a stable order. */
export const SUBSCRIPTION_INPUT_TYPES = [
  'start_trial',
  'checkout_completed',
  'trial_ended_paid',
  'trial_ended_without_payment_method',
  'cancel_at_period_end',
  'resume',
  'cancel_immediately',
  'payment_failed',
  'payment_succeeded',
  'grace_exhausted',
  'period_ended',
  'change_plan',
  'change_seats',
] as const satisfies readonly SubscriptionInputType[];

/** Notification templates the subscription machine asks for (dunning emails come from the policy). */
export type SubscriptionNotificationTemplate = 'trial_started' | 'account_reactivated';

/** Side effects for the application to carry out; the domain only describes them. */
export type SubscriptionEffect =
  | { readonly kind: 'schedule_dunning'; readonly invoiceFailedAt: Date }
  | { readonly kind: 'cancel_dunning' }
  | { readonly kind: 'notify'; readonly template: SubscriptionNotificationTemplate }
  | { readonly kind: 'invalidate_entitlements' };
