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
