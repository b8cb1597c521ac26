import type { SubscriptionView } from '../contracts/subscription.view.js';
import type { SubscriptionOrmEntity } from './subscription.orm-entity.js';

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

export function toSubscriptionView(row: SubscriptionOrmEntity): SubscriptionView {
  return {
    id: row.id,
    accountId: row.accountId,
    stripeSubscriptionId: row.stripeSubscriptionId,
    stripeCustomerId: row.stripeCustomerId,
    stripeStatus: row.stripeStatus,
    state: row.state,
    planId: row.planId,
    interval: row.interval,
    seats: row.seats,
    basePriceId: row.basePriceId,
    seatPriceId: row.seatPriceId,
    cancelAtPeriodEnd: row.cancelAtPeriodEnd,
    cancelAt: iso(row.cancelAt),
    canceledAt: iso(row.canceledAt),
    currentPeriodStart: iso(row.currentPeriodStart),
    currentPeriodEnd: iso(row.currentPeriodEnd),
    trialStart: iso(row.trialStart),
    trialEnd: iso(row.trialEnd),
    endedAt: iso(row.endedAt),
    pastDueSince: iso(row.pastDueSince),
    failedAttempts: row.failedAttempts,
    pendingPlanChange:
      row.pendingPlanId && row.pendingInterval && row.pendingEffectiveAt
        ? {
            planId: row.pendingPlanId,
            interval: row.pendingInterval,
            effectiveAt: row.pendingEffectiveAt.toISOString(),
          }
        : null,
    latestInvoiceId: row.latestInvoiceId,
    version: row.version,
    updatedAt: row.updatedAt.toISOString(),
  };
}

/** The fields whose change is billing-impacting and audited (before -> after). */
export function auditedFields(row: SubscriptionOrmEntity): Record<string, unknown> {
  return {
    state: row.state,
    stripeStatus: row.stripeStatus,
    planId: row.planId,
    interval: row.interval,
    seats: row.seats,
    cancelAtPeriodEnd: row.cancelAtPeriodEnd,
    pendingPlanId: row.pendingPlanId,
    pendingInterval: row.pendingInterval,
    failedAttempts: row.failedAttempts,
    pastDueSince: iso(row.pastDueSince),
    currentPeriodEnd: iso(row.currentPeriodEnd),
    trialEnd: iso(row.trialEnd),
    endedAt: iso(row.endedAt),
  };
}

/** The names of the audited fields whose values differ (compared one by one, dates as ISO strings). */
export function changedFields(before: Record<string, unknown>, after: Record<string, unknown>): string[] {
  return Object.keys(after).filter((key) => before[key] !== after[key]);
}
