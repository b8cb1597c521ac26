import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { DomainInvariantError } from '../kernel/errors.js';
import { DEFAULT_CATALOGUE, type PlanDefinition } from '../plan/plan.js';
import {
  addOnSeatsNeeded,
  checkAddMember,
  checkDowngradeSeats,
  seatTotal,
  seatsAfterRemoval,
  sellsAddOnSeats,
} from './seat.js';

const plans = Object.fromEntries(DEFAULT_CATALOGUE.plans.map((p) => [p.id, p])) as Record<
  'free' | 'pro' | 'business',
  PlanDefinition
>;

describe('seatTotal / addOnSeatsNeeded', () => {
  it('adds purchased add-on seats to the included ones', () => {
    expect(seatTotal(plans.pro, 0)).toBe(5);
    expect(seatTotal(plans.pro, 3)).toBe(8);
    expect(seatTotal(plans.business, 2)).toBe(27);
  });

  it('ignores purchased seats on a plan that sells none', () => {
    expect(sellsAddOnSeats(plans.free)).toBe(false);
    expect(seatTotal(plans.free, 4)).toBe(1);
  });

  it('computes the add-on seats members need', () => {
    expect(addOnSeatsNeeded(plans.pro, 3)).toBe(0);
    expect(addOnSeatsNeeded(plans.pro, 5)).toBe(0);
    expect(addOnSeatsNeeded(plans.pro, 8)).toBe(3);
  });

  it('throws on negative or fractional counts', () => {
    expect(() => seatTotal(plans.pro, -1)).toThrow(DomainInvariantError);
    expect(() => addOnSeatsNeeded(plans.pro, 1.5)).toThrow(DomainInvariantError);
  });
});

describe('checkAddMember (R-PLAN-3)', () => {
  it('accepts a member when a seat is free', () => {
    expect(checkAddMember({ plan: plans.pro, purchasedSeats: 0, memberCount: 4, buySeat: false })).toEqual({
      ok: true,
      value: { purchaseSeats: 0 },
    });
  });

  it('refuses with seatsNeeded and a price preview when no seat is free', () => {
    const result = checkAddMember({
      plan: plans.pro,
      purchasedSeats: 1,
      memberCount: 6,
      buySeat: false,
      interval: 'month',
    });
    expect(!result.ok && result.error).toMatchObject({
      code: 'seat_limit_reached',
      details: {
        seatsNeeded: 1,
        seatTotal: 6,
        seatPrice: { amountMinor: 600, currency: 'usd', interval: 'month' },
      },
    });
  });

  it('omits the price preview without an interval', () => {
    const result = checkAddMember({ plan: plans.pro, purchasedSeats: 0, memberCount: 5, buySeat: false });
    expect(!result.ok && result.error.details).toEqual({ seatsNeeded: 1, seatTotal: 5, memberCount: 5 });
  });

  it('returns the seats to buy when the owner asks to buy', () => {
    expect(
      checkAddMember({ plan: plans.business, purchasedSeats: 0, memberCount: 25, buySeat: true }),
    ).toEqual({
      ok: true,
      value: { purchaseSeats: 1 },
    });
    // Members already above the seat total (e.g. after a data repair): buy enough for everyone.
    expect(checkAddMember({ plan: plans.pro, purchasedSeats: 0, memberCount: 7, buySeat: true })).toEqual({
      ok: true,
      value: { purchaseSeats: 3 },
    });
  });

  it('refuses on a plan that sells no seats even when asked to buy', () => {
    const result = checkAddMember({ plan: plans.free, purchasedSeats: 0, memberCount: 1, buySeat: true });
    expect(!result.ok && result.error).toMatchObject({
      code: 'seat_addon_unavailable',
      details: { seatsNeeded: 1 },
    });
  });

  it('never lets members exceed seats after buying (property)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(plans.pro, plans.business),
        fc.nat(50),
        fc.nat(60),
        fc.boolean(),
        (plan, purchased, members, buy) => {
          const result = checkAddMember({
            plan,
            purchasedSeats: purchased,
            memberCount: members,
            buySeat: buy,
          });
          const seatsAfter = seatTotal(plan, purchased) + (result.ok ? result.value.purchaseSeats : 0);
          expect(result.ok ? seatsAfter >= members + 1 : seatTotal(plan, purchased) < members + 1).toBe(true);
        },
      ),
    );
  });
});

describe('seatsAfterRemoval', () => {
  it('frees an included seat without touching add-ons', () => {
    expect(seatsAfterRemoval({ plan: plans.pro, purchasedSeats: 0, memberCount: 4 })).toEqual({
      memberCount: 3,
      purchasedSeats: 0,
      releasedAddOnSeats: 0,
      seatTotal: 5,
      freeSeats: 2,
    });
  });

  it('releases one add-on seat when members no longer need it', () => {
    expect(seatsAfterRemoval({ plan: plans.pro, purchasedSeats: 2, memberCount: 7 })).toEqual({
      memberCount: 6,
      purchasedSeats: 1,
      releasedAddOnSeats: 1,
      seatTotal: 6,
      freeSeats: 0,
    });
  });

  it('keeps add-on seats still needed', () => {
    const after = seatsAfterRemoval({ plan: plans.pro, purchasedSeats: 2, memberCount: 9 });
    expect(after).toMatchObject({ memberCount: 8, purchasedSeats: 2, releasedAddOnSeats: 0, freeSeats: 0 });
  });

  it('throws when there is nobody to remove', () => {
    expect(() => seatsAfterRemoval({ plan: plans.pro, purchasedSeats: 0, memberCount: 0 })).toThrow(
      DomainInvariantError,
    );
  });
});

describe('checkDowngradeSeats', () => {
  it('allows a downgrade whose seats cover the members', () => {
    expect(checkDowngradeSeats({ targetPlan: plans.pro, purchasedSeats: 0, memberCount: 5 })).toEqual({
      ok: true,
      value: { seatTotal: 5 },
    });
    expect(checkDowngradeSeats({ targetPlan: plans.pro, purchasedSeats: 3, memberCount: 8 }).ok).toBe(true);
  });

  it('names how many members must be removed', () => {
    const result = checkDowngradeSeats({ targetPlan: plans.pro, purchasedSeats: 0, memberCount: 20 });
    expect(!result.ok && result.error).toMatchObject({
      code: 'downgrade_blocked_by_seats',
      details: { membersToRemove: 15, seatTotal: 5, memberCount: 20, targetPlanId: 'pro' },
    });
    const toFree = checkDowngradeSeats({ targetPlan: plans.free, purchasedSeats: 10, memberCount: 3 });
    expect(!toFree.ok && toFree.error.details?.['membersToRemove']).toBe(2);
  });
});
