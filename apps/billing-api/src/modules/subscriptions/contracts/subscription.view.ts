import type { BillingInterval, PlanId, SubscriptionState } from '@billing/domain';

/** What other modules may know of a mirrored subscription. Dates are ISO strings. */
export interface SubscriptionView {
  id: string;
  accountId: string;
  stripeSubscriptionId: string;
  stripeCustomerId: string;
  stripeStatus: string;
  state: SubscriptionState;
  planId: PlanId | null;
  interval: BillingInterval | null;
  seats: number;
  basePriceId: string | null;
  seatPriceId: string | null;
  cancelAtPeriodEnd: boolean;
  cancelAt: string | null;
  canceledAt: string | null;
  currentPeriodStart: string | null;
  currentPeriodEnd: string | null;
  trialStart: string | null;
  trialEnd: string | null;
  endedAt: string | null;
  pastDueSince: string | null;
  /** Failed payment attempts of the open dunning (0 outside it). */
  failedAttempts: number;
  /** A downgrade scheduled for the period end (R-SUB-4). */
  pendingPlanChange: { planId: string; interval: BillingInterval; effectiveAt: string } | null;
  latestInvoiceId: string | null;
  version: number;
  updatedAt: string;
}
