import type { AccessMode, EntitlementBanner, EntitlementBasis, SubscriptionState } from '@billing/domain';
import type { DunningStage } from '../../dunning/contracts/dunning-case.view.js';

/** Why the verdict is what it is; with `basis` it tells an integrator what to trust. */
export const VERDICT_REASONS = [
  /** The account's own billing flag is off: everything, billing does not apply. */
  'billing_flag_off',
  /** The flag is on but the account's bucket is outside the global rollout percentage. */
  'outside_rollout',
  /** No subscription was ever mirrored: the Free tier. */
  'no_subscription',
  /** Decided by the account's subscription and its state (see `state`). */
  'subscription_state',
  /** A Checkout completed but its subscription is not mirrored yet: access granted until it is. */
  'checkout_not_mirrored',
  /** The subscription's plan or state is unknown to this catalogue: access granted. */
  'state_uncertain',
  /** The database (and the cache) could not be read: access granted. */
  'state_unavailable',
] as const;
export type VerdictReason = (typeof VERDICT_REASONS)[number];

export const NEXT_CHANGE_KINDS = ['trial_end', 'downgrade', 'cancellation'] as const;
export type NextChangeKind = (typeof NEXT_CHANGE_KINDS)[number];

/**
 * What an account may do now (R-SM-4, R-PLAN-4/5, R-CORE-5): the body of
 * `GET /v1/accounts/{id}/entitlements` and the `data` of the `entitlements.updated` integration event.
 * Dates are ISO strings. Primitives only.
 */
export interface EntitlementVerdict {
  accountId: string;
  tier: string;
  features: string[];
  /** Seats: `total` null means unlimited; `used` counts the members (owner included), null when unknown. */
  limits: { seats: { total: number | null; used: number | null } };
  accessMode: AccessMode;
  banners: EntitlementBanner[];
  basis: EntitlementBasis;
  reason: VerdictReason;
  /** The deciding subscription's state, null when none or unknown. */
  state: SubscriptionState | null;
  /** Whether billing applies to the account (its flag and the rollout); null when unknown. */
  billing: { enabled: boolean | null; accountFlag: boolean | null; rolloutPercent: number | null };
  /** The account's open dunning case in short (stage, last and next step); null when it has none. */
  dunningStage: DunningStage | null;
  /** The next scheduled change of the verdict, null when none is scheduled. */
  nextChange: { kind: NextChangeKind; at: string; planId: string | null } | null;
}
