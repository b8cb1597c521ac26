import { DomainInvariantError } from '../kernel/errors.js';
import {
  allFeatures,
  FREE_PLAN_ID,
  findPlan,
  topPlan,
  type Catalogue,
  type PlanDefinition,
  type PlanId,
} from '../plan/plan.js';
import { seatTotal } from '../seat/seat.js';
import {
  isSubscriptionState,
  type PendingPlanChange,
  type SubscriptionState,
} from '../subscription/subscription.types.js';

/** `read_only` lets reads and exports through and refuses mutations (403 account_suspended). */
export type AccessMode = 'full' | 'read_only';

/** In-app notices; dates are ISO strings. */
export type EntitlementBanner =
  | { readonly kind: 'past_due'; readonly since: string | null }
  | { readonly kind: 'suspended' }
  | { readonly kind: 'trial_ends'; readonly at: string | null }
  | { readonly kind: 'cancels_at_period_end'; readonly at: string | null }
  | { readonly kind: 'downgrade_scheduled'; readonly planId: string; readonly at: string }
  /** The default card expires before the renewal at `at` (R-DUN-6); added by the app, which knows the card. */
  | {
      readonly kind: 'card_expiring';
      readonly at: string;
      readonly brand: string | null;
      readonly last4: string;
      readonly expMonth: number;
      readonly expYear: number;
    };

/** Why the entitlements are what they are. */
export type EntitlementBasis = 'subscription' | 'billing_disabled' | 'fail_open';

/** What an account may do now (R-SM-4). `seatLimit` null means unlimited. */
export interface Entitlements {
  readonly tier: PlanId;
  readonly features: string[];
  readonly seatLimit: number | null;
  readonly accessMode: AccessMode;
  readonly banners: EntitlementBanner[];
  readonly billingEnabled: boolean;
  readonly basis: EntitlementBasis;
}

/** Input of deriveEntitlements. `state` null or unknown means the billing state is uncertain. */
export interface EntitlementInput {
  readonly catalogue: Catalogue;
  readonly planId: string;
  readonly state: SubscriptionState | null | undefined;
  readonly purchasedSeats: number;
  readonly flags: { readonly billingEnabled: boolean };
  readonly now: Date;
  readonly currentPeriodEnd?: Date;
  readonly trialEnd?: Date;
  readonly pastDueSince?: Date;
  readonly pendingPlanChange?: PendingPlanChange;
}

function everything(catalogue: Catalogue, basis: EntitlementBasis, billingEnabled: boolean): Entitlements {
  const top = topPlan(catalogue);
  if (!top) throw new DomainInvariantError('the catalogue has no plans');
  return {
    tier: top.id,
    features: allFeatures(catalogue),
    seatLimit: null,
    accessMode: 'full',
    banners: [],
    billingEnabled,
    basis,
  };
}

function ofPlan(
  plan: PlanDefinition,
  seats: number,
  accessMode: AccessMode,
  banners: EntitlementBanner[],
): Entitlements {
  return {
    tier: plan.id,
    features: [...plan.features],
    seatLimit: seatTotal(plan, seats),
    accessMode,
    banners,
    billingEnabled: true,
    basis: 'subscription',
  };
}

const iso = (d: Date | undefined): string | null => (d ? d.toISOString() : null);

/**
 * Entitlements as a pure function of plan, state, seats, flags and time (R-SM-4, R-PLAN-4/5, R-CORE-5):
 * - billing disabled -> everything (top tier, every feature, unlimited seats, full access);
 * - uncertain state (null, unknown, or a plan missing from the catalogue) -> fail open the same way;
 * - free / expired / canceled_immediately -> the Free tier;
 * - trialing, active, past_due -> the plan, full access (past_due adds a banner);
 * - suspended -> the plan's features but read_only;
 * - canceled_pending -> the paid tier until the period ends; once it has passed and the expiry has
 *   not arrived yet the state is uncertain, so access stays granted.
 * A scheduled downgrade keeps the current tier and only adds a banner.
 */
export function deriveEntitlements(input: EntitlementInput): Entitlements {
  const { catalogue, state, flags, now } = input;
  if (!flags.billingEnabled) return everything(catalogue, 'billing_disabled', false);
  if (!isSubscriptionState(state)) return everything(catalogue, 'fail_open', true);

  if (state === 'free' || state === 'expired' || state === 'canceled_immediately') {
    const free = findPlan(catalogue, FREE_PLAN_ID);
    return free.ok ? ofPlan(free.value, 0, 'full', []) : everything(catalogue, 'fail_open', true);
  }
  const plan = findPlan(catalogue, input.planId);
  if (!plan.ok) return everything(catalogue, 'fail_open', true);

  const banners: EntitlementBanner[] = [];
  const pending = input.pendingPlanChange;
  if (pending && now.getTime() < pending.effectiveAt.getTime()) {
    banners.push({
      kind: 'downgrade_scheduled',
      planId: pending.planId,
      at: pending.effectiveAt.toISOString(),
    });
  }
  switch (state) {
    case 'trialing':
      return ofPlan(plan.value, input.purchasedSeats, 'full', [
        { kind: 'trial_ends', at: iso(input.trialEnd ?? input.currentPeriodEnd) },
        ...banners,
      ]);
    case 'active':
      return ofPlan(plan.value, input.purchasedSeats, 'full', banners);
    case 'past_due':
      return ofPlan(plan.value, input.purchasedSeats, 'full', [
        { kind: 'past_due', since: iso(input.pastDueSince) },
        ...banners,
      ]);
    case 'suspended':
      return ofPlan(plan.value, input.purchasedSeats, 'read_only', [{ kind: 'suspended' }]);
    case 'canceled_pending':
      return ofPlan(plan.value, input.purchasedSeats, 'full', [
        { kind: 'cancels_at_period_end', at: iso(input.currentPeriodEnd) },
      ]);
  }
}

/**
 * Deterministic percentage rollout: FNV-1a (32 bit) of `salt:accountId` (UTF-8) modulo 100, included
 * when below `percent`. The same account always lands in the same bucket, and raising the percentage
 * only ever adds accounts. `percent` is an integer 0-100.
 */
export function isInRollout(accountId: string, percent: number, salt = 'billing_enabled'): boolean {
  if (!Number.isInteger(percent) || percent < 0 || percent > 100) {
    throw new DomainInvariantError('rollout percent must be an integer from 0 to 100', { percent });
  }
  return rolloutBucket(accountId, salt) < percent;
}

/** The account's rollout bucket, 0-99. */
export function rolloutBucket(accountId: string, salt = 'billing_enabled'): number {
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(`${salt}:${accountId}`)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % 100;
}
