import { isLiveState, type SubscriptionSnapshot } from '@billing/domain';
import type { SubscriptionOrmEntity } from './subscription.orm-entity.js';

/**
 * The machine's snapshot of a subscription row. The trial end counts only while the subscription is
 * in its trial (Stripe keeps `trial_end` after a trial converts; the machine resumes a cancellation
 * into the trial only when one is running).
 */
export function toSnapshot(row: SubscriptionOrmEntity): SubscriptionSnapshot {
  const live = isLiveState(row.state);
  const inTrial =
    row.state === 'trialing' || (row.state === 'canceled_pending' && row.stripeStatus === 'trialing');
  return {
    state: row.state,
    planId: live && row.planId ? row.planId : 'free',
    interval: live ? row.interval : null,
    seats: live ? row.seats : 0,
    // A trial Stripe reports counts once the machine has seen the subscription start (a row still on
    // its initial Free state is about to enter that very trial).
    trialUsed: row.trialStart !== null && row.state !== 'free',
    ...(live && row.currentPeriodEnd ? { currentPeriodEnd: row.currentPeriodEnd } : {}),
    ...(inTrial && row.trialEnd ? { trialEnd: row.trialEnd } : {}),
    ...(row.pastDueSince ? { pastDueSince: row.pastDueSince } : {}),
    failedAttempts: row.failedAttempts,
    ...(row.pendingPlanId && row.pendingInterval && row.pendingEffectiveAt
      ? {
          pendingPlanChange: {
            planId: row.pendingPlanId,
            interval: row.pendingInterval,
            effectiveAt: row.pendingEffectiveAt,
          },
        }
      : {}),
    version: row.version,
  };
}

/** Writes the machine's side of a snapshot onto the row (what Stripe reports stays as the mirror set it). */
export function applySnapshot(row: SubscriptionOrmEntity, s: SubscriptionSnapshot): void {
  row.state = s.state;
  row.planId = s.planId;
  row.interval = s.interval;
  row.seats = s.seats;
  row.pastDueSince = s.pastDueSince ?? null;
  row.failedAttempts = s.failedAttempts;
  row.pendingPlanId = s.pendingPlanChange?.planId ?? null;
  row.pendingInterval = s.pendingPlanChange?.interval ?? null;
  row.pendingEffectiveAt = s.pendingPlanChange?.effectiveAt ?? null;
  row.version = s.version;
}
