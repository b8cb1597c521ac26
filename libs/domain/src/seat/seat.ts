import { DomainInvariantError, rejection, type DomainRejection } from '../kernel/errors.js';
import { err, ok, type Result } from '../kernel/result.js';
import type { Money } from '../money/money.js';
import type { BillingInterval, PlanDefinition } from '../plan/plan.js';

function assertCount(value: number, name: string): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new DomainInvariantError(`${name} must be a non-negative integer`, { [name]: value });
  }
}

/** True when the plan sells add-on seats (for the interval, or for any interval when omitted). */
export function sellsAddOnSeats(plan: PlanDefinition, interval?: BillingInterval): boolean {
  return interval === undefined
    ? Object.values(plan.seatAddOnPrices).some((p) => p !== undefined)
    : plan.seatAddOnPrices[interval] !== undefined;
}

/** Included seats + purchased add-on seats (a plan without add-ons ignores purchased seats). */
export function seatTotal(plan: PlanDefinition, purchasedAddOnSeats: number): number {
  assertCount(purchasedAddOnSeats, 'purchasedAddOnSeats');
  return plan.includedSeats + (sellsAddOnSeats(plan) ? purchasedAddOnSeats : 0);
}

/** Add-on seats needed so that `memberCount` members each have a seat. */
export function addOnSeatsNeeded(plan: PlanDefinition, memberCount: number): number {
  assertCount(memberCount, 'memberCount');
  return Math.max(0, memberCount - plan.includedSeats);
}

/** Input of checkAddMember. */
export interface AddMemberCheck {
  readonly plan: PlanDefinition;
  /** Add-on seats already purchased. */
  readonly purchasedSeats: number;
  /** Members before the new one is added. */
  readonly memberCount: number;
  /** The owner agreed to buy the missing seat(s). */
  readonly buySeat: boolean;
  /** The subscription's interval, for the price preview in the refusal. */
  readonly interval?: BillingInterval;
}

/**
 * Whether one more member fits (R-PLAN-3): ok with `purchaseSeats: 0` when a seat is free; ok with the
 * number of add-on seats to buy when the owner asked to buy; else `seat_limit_reached` with
 * `seatsNeeded` and the per-seat price preview (or `seat_addon_unavailable` when none is sold).
 */
export function checkAddMember(input: AddMemberCheck): Result<{ purchaseSeats: number }, DomainRejection> {
  const { plan, purchasedSeats, memberCount, buySeat, interval } = input;
  const total = seatTotal(plan, purchasedSeats);
  assertCount(memberCount, 'memberCount');
  const seatsNeeded = Math.max(0, memberCount + 1 - total);
  if (seatsNeeded === 0) return ok({ purchaseSeats: 0 });
  if (!sellsAddOnSeats(plan, interval)) {
    return err(
      rejection('seat_addon_unavailable', `the ${plan.name} plan has no free seat and sells no extra seats`, {
        seatsNeeded,
        seatTotal: total,
        planId: plan.id,
      }),
    );
  }
  if (buySeat) return ok({ purchaseSeats: seatsNeeded });
  const unitPrice: Money | undefined = interval === undefined ? undefined : plan.seatAddOnPrices[interval];
  return err(
    rejection(
      'seat_limit_reached',
      `all ${total} seats are in use; buy ${seatsNeeded} more to add this member`,
      {
        seatsNeeded,
        seatTotal: total,
        memberCount,
        ...(unitPrice && interval
          ? { seatPrice: { amountMinor: unitPrice.amountMinor, currency: unitPrice.currency, interval } }
          : {}),
      },
    ),
  );
}

/** Seat numbers after removing one member. */
export interface SeatsAfterRemoval {
  readonly memberCount: number;
  /** Purchased add-on seats after releasing the freed one (if it was a paid seat). */
  readonly purchasedSeats: number;
  /** 1 when the freed seat was a purchased add-on seat (the credit lands on the next invoice), else 0. */
  readonly releasedAddOnSeats: number;
  readonly seatTotal: number;
  readonly freeSeats: number;
}

/**
 * Removing a member frees their seat now (R-PLAN-3). When more add-on seats are purchased than the
 * remaining members need, one add-on seat is released (Stripe credits it on the next invoice);
 * extra seats the owner bought beyond that are kept.
 */
export function seatsAfterRemoval(input: {
  plan: PlanDefinition;
  purchasedSeats: number;
  memberCount: number;
}): SeatsAfterRemoval {
  const { plan, purchasedSeats, memberCount } = input;
  assertCount(purchasedSeats, 'purchasedSeats');
  assertCount(memberCount, 'memberCount');
  if (memberCount < 1)
    throw new DomainInvariantError('cannot remove a member from an account without members');
  const after = memberCount - 1;
  const effectivePurchased = sellsAddOnSeats(plan) ? purchasedSeats : 0;
  const releasedAddOnSeats = effectivePurchased > addOnSeatsNeeded(plan, after) ? 1 : 0;
  const purchasedAfter = effectivePurchased - releasedAddOnSeats;
  const total = seatTotal(plan, purchasedAfter);
  return {
    memberCount: after,
    purchasedSeats: purchasedAfter,
    releasedAddOnSeats,
    seatTotal: total,
    freeSeats: Math.max(0, total - after),
  };
}

/**
 * A downgrade is refused while the target's seat total (its included seats + the purchased add-on
 * seats, if it sells any) is below the member count: `downgrade_blocked_by_seats` with
 * `details.membersToRemove` (R-PLAN-3, 409 naming how many).
 */
export function checkDowngradeSeats(input: {
  targetPlan: PlanDefinition;
  purchasedSeats: number;
  memberCount: number;
}): Result<{ seatTotal: number }, DomainRejection> {
  const { targetPlan, purchasedSeats, memberCount } = input;
  assertCount(memberCount, 'memberCount');
  const total = seatTotal(targetPlan, purchasedSeats);
  const membersToRemove = memberCount - total;
  if (membersToRemove <= 0) return ok({ seatTotal: total });
  return err(
    rejection(
      'downgrade_blocked_by_seats',
      `the ${targetPlan.name} plan has ${total} seats for ${memberCount} members: remove ${membersToRemove} first`,
      { membersToRemove, seatTotal: total, memberCount, targetPlanId: targetPlan.id },
    ),
  );
}
