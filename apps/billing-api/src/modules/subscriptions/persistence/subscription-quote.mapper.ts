import type { PlanQuoteView } from '../contracts/plan-quote.view.js';
import type { SubscriptionQuoteOrmEntity } from './subscription-quote.orm-entity.js';

export function toPlanQuoteView(row: SubscriptionQuoteOrmEntity): PlanQuoteView {
  return {
    id: row.id,
    accountId: row.accountId,
    subscriptionId: row.subscriptionId,
    kind: row.kind,
    from: { planId: row.fromPlanId, interval: row.fromInterval, seats: row.fromSeats },
    to: { planId: row.planId, interval: row.interval, seats: row.seats },
    currency: row.currency,
    amountDueNow: row.amountDueNow,
    credit: row.credit,
    creditBalanceApplied: row.creditBalanceApplied,
    creditBalanceAdded: row.creditBalanceAdded,
    prorationAmount: row.prorationAmount,
    billingCycleRestarts: row.billingCycleRestarts,
    nextInvoice: { amount: row.nextInvoiceAmount, at: row.nextInvoiceAt.toISOString() },
    prorationDate: new Date(row.prorationDate * 1000).toISOString(),
    subscriptionVersion: row.subscriptionVersion,
    status: row.status,
    appliedAt: row.appliedAt?.toISOString() ?? null,
    stripeInvoiceId: row.stripeInvoiceId,
    expiresAt: row.expiresAt.toISOString(),
    createdAt: row.createdAt.toISOString(),
  };
}
