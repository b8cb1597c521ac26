import type { BillingInterval, PlanId, PlanQuoteKind } from '@billing/domain';

/**
 * A plan or seat change as Stripe priced it (R-SUB-3), for other modules (seat purchases quote the
 * same plan with another seat count) and the HTTP layer. Amounts in minor units, dates ISO strings.
 */
export interface PlanQuoteView {
  id: string;
  accountId: string;
  subscriptionId: string;
  kind: PlanQuoteKind;
  from: { planId: PlanId; interval: BillingInterval; seats: number };
  to: { planId: PlanId; interval: BillingInterval; seats: number };
  currency: string;
  amountDueNow: number;
  credit: number;
  creditBalanceApplied: number;
  /** What the change adds to the customer's credit balance (a credit larger than the charge). */
  creditBalanceAdded: number;
  /** The signed total of Stripe's proration lines (the price of a seat change for the rest of the period). */
  prorationAmount: number;
  /** An interval change: Stripe restarts the billing cycle at the change; `nextInvoice.at` is the new period's end. */
  billingCycleRestarts: boolean;
  nextInvoice: { amount: number; at: string };
  prorationDate: string;
  subscriptionVersion: number;
  status: 'open' | 'applying' | 'applied';
  appliedAt: string | null;
  stripeInvoiceId: string | null;
  expiresAt: string;
  createdAt: string;
}

/** The target of a quote: a plan and interval with a number of purchased add-on seats. */
export interface PlanQuoteTarget {
  planId: string;
  interval: BillingInterval;
  seats: number;
}
