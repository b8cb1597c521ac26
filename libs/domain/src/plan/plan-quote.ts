import { rejection, type DomainRejection } from '../kernel/errors.js';
import { err, ok, type Result } from '../kernel/result.js';
import type { SubscriptionInput } from '../subscription/subscription.types.js';
import { comparePlans, type BillingInterval, type PlanDefinition, type PlanId } from './plan.js';

/**
 * What a quote changes: the plan (up now, or down at the period end), only the purchased seats (more
 * now, fewer credited to the next invoice), or withdraws a scheduled downgrade (`downgrade_withdrawn`:
 * the tier kept is billed again, its prorations reversed on the next invoice).
 */
export type PlanQuoteKind = 'upgrade' | 'downgrade' | 'seats_added' | 'seats_removed' | 'downgrade_withdrawn';

/**
 * How a quote is billed by Stripe: `invoice_now` charges the prorations at once (`always_invoice`),
 * `next_invoice` leaves them (a credit) on the next invoice (`create_prorations`).
 */
export type PlanQuoteBilling = 'invoice_now' | 'next_invoice';

/**
 * The kind of change from (plan, interval, seats) to the target, or `same_plan` when nothing would
 * change. A plan change decides by the plan (tier, then interval); seats alone by their count.
 */
export function planQuoteKind(
  from: { plan: PlanDefinition; interval: BillingInterval; seats: number },
  to: { plan: PlanDefinition; interval: BillingInterval; seats: number },
): Result<PlanQuoteKind, DomainRejection> {
  const direction = comparePlans(from.plan, to.plan, from.interval, to.interval);
  if (direction !== 'same') return ok(direction);
  if (to.seats > from.seats) return ok('seats_added');
  if (to.seats < from.seats) return ok('seats_removed');
  return err(
    rejection('same_plan', 'this is already the current plan and seat count', {
      planId: from.plan.id,
      interval: from.interval,
      seats: from.seats,
    }),
  );
}

/**
 * A change of the billing interval (monthly <-> yearly): Stripe restarts the billing cycle at the
 * change and invoices at once (the new period in full, less the unused time of the old one).
 */
export function restartsBillingCycle(from: BillingInterval, to: BillingInterval): boolean {
  return from !== to;
}

/**
 * Upgrades and added seats are charged now; downgrades and removed seats credit the next invoice. A
 * change of the billing interval is invoiced now in either direction (`restartsCycle`): Stripe bills
 * the new period at once, the credit for the unused time on the same invoice.
 */
export function planQuoteBilling(kind: PlanQuoteKind, restartsCycle = false): PlanQuoteBilling {
  return restartsCycle || kind === 'upgrade' || kind === 'seats_added' ? 'invoice_now' : 'next_invoice';
}

/** What applying a quote checks: its expiry, whether it was used, and what it was priced against. */
export interface PlanQuoteTerms {
  readonly expiresAt: Date;
  readonly appliedAt: Date | null;
  /** The subscription's version and Stripe billing fingerprint when the quote was priced. */
  readonly subscriptionVersion: number;
  readonly fingerprint: string;
}

/**
 * Whether a quote may be applied now to the subscription as it is (R-SUB-3): not yet applied
 * (`quote_already_applied`), not expired (`quote_expired`, expiry instant excluded) and priced against
 * this very subscription (`quote_stale` when its version or its Stripe billing changed since).
 */
export function checkPlanQuote(
  quote: PlanQuoteTerms,
  current: { version: number; fingerprint: string },
  now: Date,
): Result<void, DomainRejection> {
  if (quote.appliedAt !== null) {
    return err(
      rejection('quote_already_applied', 'this quote was already applied', {
        appliedAt: quote.appliedAt.toISOString(),
      }),
    );
  }
  if (now.getTime() >= quote.expiresAt.getTime()) {
    return err(
      rejection('quote_expired', 'this quote has expired: ask for a new one', {
        expiresAt: quote.expiresAt.toISOString(),
      }),
    );
  }
  if (quote.subscriptionVersion !== current.version || quote.fingerprint !== current.fingerprint) {
    return err(
      rejection('quote_stale', 'the subscription changed since this quote was made: ask for a new one', {
        quotedVersion: quote.subscriptionVersion,
        currentVersion: current.version,
      }),
    );
  }
  return ok(undefined);
}

/**
 * A stable fingerprint of how Stripe bills a subscription: its status, period, items (price and
 * quantity, in a fixed order) and the customer's credit balance. Anything here that changes between a
 * quote and its application would change the charge, so the quote is stale.
 */
export function billingFingerprint(input: {
  status: string;
  currentPeriodEnd: number | null;
  items: readonly { price: string; quantity: number }[];
  customerBalance: number;
}): string {
  const items = input.items
    .map((i) => `${i.price}x${i.quantity}`)
    .sort()
    .join(',');
  return `${input.status}|${input.currentPeriodEnd ?? '-'}|${items}|${input.customerBalance}`;
}

/**
 * The machine inputs of a quoted change, in an order the seat rule accepts at each step: added seats
 * before the plan change (the new plan's check counts them), removed seats after it.
 */
export function planChangeInputs(
  from: { planId: PlanId; interval: BillingInterval; seats: number },
  to: { planId: PlanId; interval: BillingInterval; seats: number },
  memberCount: number,
): SubscriptionInput[] {
  const plan: SubscriptionInput[] =
    from.planId !== to.planId || from.interval !== to.interval
      ? [{ type: 'change_plan', planId: to.planId, interval: to.interval, memberCount }]
      : [];
  if (to.seats === from.seats) return plan;
  const seats: SubscriptionInput = { type: 'change_seats', seats: to.seats, memberCount };
  return to.seats > from.seats ? [seats, ...plan] : [...plan, seats];
}
