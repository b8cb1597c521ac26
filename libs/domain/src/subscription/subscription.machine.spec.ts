import { describe, expect, it } from '@jest/globals';
import { at, NOW, SNAPSHOTS } from './subscription.fixtures.js';
import { DomainInvariantError } from '../kernel/errors.js';
import { DEFAULT_CATALOGUE, type Catalogue } from '../plan/plan.js';
import {
  allowedInputs,
  allowedTargets,
  checkSubscriptionInvariants,
  SUBSCRIPTION_TRANSITIONS,
  transition as machineTransition,
} from './subscription.machine.js';
import {
  SUBSCRIPTION_INPUT_TYPES,
  SUBSCRIPTION_STATES,
  type SubscriptionInput,
  type SubscriptionSnapshot,
  type SubscriptionState,
} from './subscription.types.js';

/** The machine with the default catalogue unless a test passes another (the app always passes its own). */
const transition = (
  snapshot: Parameters<typeof machineTransition>[0],
  input: Parameters<typeof machineTransition>[1],
  now: Date,
  catalogue: Catalogue = DEFAULT_CATALOGUE,
): ReturnType<typeof machineTransition> => machineTransition(snapshot, input, now, catalogue);

// ---- Canonical inputs: every input type, plan and seat changes in both directions. ----
const INPUTS = {
  start_trial: { type: 'start_trial', planId: 'business', interval: 'month', trialEnd: at(14) },
  checkout_completed: {
    type: 'checkout_completed',
    planId: 'pro',
    interval: 'month',
    seats: 2,
    currentPeriodEnd: at(30),
  },
  trial_ended_paid: { type: 'trial_ended_paid', currentPeriodEnd: at(30) },
  trial_ended_without_payment_method: { type: 'trial_ended_without_payment_method' },
  cancel_at_period_end: { type: 'cancel_at_period_end' },
  resume: { type: 'resume' },
  cancel_immediately: { type: 'cancel_immediately' },
  payment_failed: { type: 'payment_failed' },
  payment_succeeded: { type: 'payment_succeeded', currentPeriodEnd: at(30) },
  grace_exhausted: { type: 'grace_exhausted' },
  period_ended: { type: 'period_ended' },
  upgrade: { type: 'change_plan', planId: 'business', interval: 'year', memberCount: 3 },
  // From the canonical Pro yearly: a change of interval, which restarts the billing cycle (at once,
  // except in a trial); the same-interval downgrade kept until the period end has its own tests.
  downgrade: { type: 'change_plan', planId: 'pro', interval: 'month', memberCount: 3 },
  seats_up: { type: 'change_seats', seats: 3, memberCount: 3 },
  seats_down: { type: 'change_seats', seats: 0, memberCount: 3 },
} as const satisfies Record<string, SubscriptionInput>;
type InputName = keyof typeof INPUTS;

// ---- The expected machine, written out by hand from SPEC section 4 (independent of the code). ----
type Accepted = { to: SubscriptionState; events: string[]; effects: string[] };
type Expected = Accepted | { reject: string };
const X: Expected = { reject: 'invalid_transition' };
const INV = 'invalidate_entitlements';
const go = (to: SubscriptionState, event: string, effects: string[] = [INV]): Accepted => ({
  to,
  events: [`subscription.${event}`],
  effects,
});
const fromFreeTier: Record<InputName, Expected> = {
  start_trial: go('trialing', 'trial_started', [INV, 'notify:trial_started']),
  checkout_completed: go('active', 'activated'),
  trial_ended_paid: X,
  trial_ended_without_payment_method: X,
  cancel_at_period_end: X,
  resume: X,
  cancel_immediately: X,
  payment_failed: X,
  payment_succeeded: X,
  grace_exhausted: X,
  period_ended: X,
  upgrade: X,
  downgrade: X,
  seats_up: X,
  seats_down: X,
};
const EXPECTED: Record<SubscriptionState, Record<InputName, Expected>> = {
  free: fromFreeTier,
  expired: fromFreeTier,
  canceled_immediately: fromFreeTier,
  trialing: {
    start_trial: X,
    checkout_completed: X,
    trial_ended_paid: go('active', 'trial_converted'),
    trial_ended_without_payment_method: go('expired', 'trial_expired'),
    cancel_at_period_end: go('canceled_pending', 'cancellation_scheduled'),
    resume: X,
    cancel_immediately: go('canceled_immediately', 'canceled'),
    payment_failed: go('past_due', 'payment_failed', ['schedule_dunning', INV]),
    payment_succeeded: X,
    grace_exhausted: X,
    period_ended: X,
    upgrade: go('trialing', 'plan_changed'),
    downgrade: go('trialing', 'plan_change_scheduled'),
    seats_up: go('trialing', 'seats_changed'),
    seats_down: X, // trial has 0 seats; handled below as a no-op, see the dedicated test
  },
  active: {
    start_trial: X,
    checkout_completed: X,
    trial_ended_paid: X,
    trial_ended_without_payment_method: X,
    cancel_at_period_end: go('canceled_pending', 'cancellation_scheduled'),
    resume: X,
    cancel_immediately: go('canceled_immediately', 'canceled'),
    payment_failed: go('past_due', 'payment_failed', ['schedule_dunning', INV]),
    payment_succeeded: go('active', 'renewed'),
    grace_exhausted: X,
    period_ended: X,
    upgrade: go('active', 'plan_changed'),
    downgrade: go('active', 'plan_changed'),
    seats_up: go('active', 'seats_changed'),
    seats_down: go('active', 'seats_changed'),
  },
  past_due: {
    start_trial: X,
    checkout_completed: X,
    trial_ended_paid: X,
    trial_ended_without_payment_method: X,
    cancel_at_period_end: X,
    resume: X,
    cancel_immediately: go('canceled_immediately', 'canceled', ['cancel_dunning', INV]),
    payment_failed: go('past_due', 'payment_failed', []),
    payment_succeeded: go('active', 'reactivated', ['cancel_dunning', 'notify:account_reactivated', INV]),
    grace_exhausted: go('suspended', 'suspended'),
    period_ended: X,
    upgrade: { reject: 'outstanding_balance' },
    downgrade: { reject: 'outstanding_balance' },
    seats_up: { reject: 'outstanding_balance' },
    seats_down: go('past_due', 'seats_changed'),
  },
  suspended: {
    start_trial: X,
    checkout_completed: X,
    trial_ended_paid: X,
    trial_ended_without_payment_method: X,
    cancel_at_period_end: X,
    resume: X,
    cancel_immediately: go('canceled_immediately', 'canceled', ['cancel_dunning', INV]),
    payment_failed: go('suspended', 'payment_failed', []),
    payment_succeeded: go('active', 'reactivated', ['cancel_dunning', 'notify:account_reactivated', INV]),
    grace_exhausted: X,
    period_ended: X,
    upgrade: X,
    downgrade: X,
    seats_up: X,
    seats_down: X,
  },
  canceled_pending: {
    start_trial: X,
    checkout_completed: X,
    trial_ended_paid: X,
    trial_ended_without_payment_method: X,
    cancel_at_period_end: X,
    resume: go('active', 'resumed'),
    cancel_immediately: go('canceled_immediately', 'canceled'),
    payment_failed: X,
    payment_succeeded: X,
    grace_exhausted: X,
    period_ended: go('expired', 'expired'),
    upgrade: X,
    downgrade: X,
    seats_up: go('canceled_pending', 'seats_changed'),
    seats_down: go('canceled_pending', 'seats_changed'),
  },
};
// In trialing the canonical snapshot has 0 add-on seats, so "seats_down" to 0 is accepted as a no-op.
const NO_OP: [SubscriptionState, InputName][] = [['trialing', 'seats_down']];

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    Object.values(value).forEach(deepFreeze);
    Object.freeze(value);
  }
  return value;
}

const effectName = (e: { kind: string; template?: string }): string =>
  e.kind === 'notify' ? `notify:${e.template ?? ''}` : e.kind;

/** Reduces a result to what the expectation table states, plus the checks every accepted step must pass. */
function summarize(snapshot: SubscriptionSnapshot, result: ReturnType<typeof transition>): unknown {
  if (!result.ok) return { reject: result.error.code };
  const { snapshot: next, events, effects } = result.value;
  if (events.length === 0 && next === snapshot && effects.length === 0) return { noOp: true };
  const headersOk = events.every(
    (e) =>
      e.version === 1 &&
      e.occurredAt === NOW.toISOString() &&
      e.fromState === snapshot.state &&
      e.toState === next.state &&
      // Events carry primitives only: a JSON round trip changes nothing.
      JSON.stringify(JSON.parse(JSON.stringify(e))) === JSON.stringify(e) &&
      Object.values(e).every((v) => v === null || ['string', 'number', 'boolean'].includes(typeof v)),
  );
  return {
    to: next.state,
    events: events.map((e) => e.type),
    effects: effects.map(effectName),
    versionDelta: next.version - snapshot.version,
    invariantProblems: checkSubscriptionInvariants(next),
    eventHeaders: headersOk ? 'ok' : events,
  };
}

const PAIRS = SUBSCRIPTION_STATES.flatMap((state) =>
  (Object.keys(INPUTS) as InputName[]).map((input) => [state, input] as const),
);

describe('subscription machine: every (state x input) pair', () => {
  it('covers every state and every input type', () => {
    expect(PAIRS).toHaveLength(SUBSCRIPTION_STATES.length * Object.keys(INPUTS).length);
    expect(new Set(Object.values(INPUTS).map((i) => i.type))).toEqual(new Set(SUBSCRIPTION_INPUT_TYPES));
  });

  it.each(PAIRS)('%s + %s', (state, inputName) => {
    const snapshot = deepFreeze(structuredClone(SNAPSHOTS[state]));
    const result = transition(snapshot, INPUTS[inputName], NOW);
    const noOp = NO_OP.some(([s, i]) => s === state && i === inputName);
    const expected = noOp ? { noOp: true } : EXPECTED[state][inputName];
    expect(summarize(snapshot, result)).toEqual(
      'to' in expected
        ? { ...expected, versionDelta: 1, invariantProblems: [], eventHeaders: 'ok' }
        : expected,
    );
  });

  it('names from, to and input in an invalid_transition', () => {
    const result = transition(SNAPSHOTS.free, INPUTS.period_ended, NOW);
    expect(!result.ok && result.error.details).toMatchObject({
      from: 'free',
      to: 'expired',
      input: 'period_ended',
      allowedInputs: ['start_trial', 'checkout_completed'],
    });
  });

  it('exposes the table as data consistent with allowedTargets/allowedInputs', () => {
    for (const state of SUBSCRIPTION_STATES) {
      for (const type of SUBSCRIPTION_INPUT_TYPES) {
        const row: Partial<Record<string, readonly string[]>> = SUBSCRIPTION_TRANSITIONS[state];
        expect(allowedTargets(state, type)).toEqual(row[type]);
        expect(allowedInputs(state).includes(type)).toBe(row[type] !== undefined);
      }
    }
  });
});

describe('subscription rules', () => {
  it('allows one trial per account, on trial-eligible plans only', () => {
    const used = { ...SNAPSHOTS.expired, trialUsed: true };
    expect(transition(used, INPUTS.start_trial, NOW)).toMatchObject({
      ok: false,
      error: { code: 'trial_already_used' },
    });
    const toFree: SubscriptionInput = {
      type: 'start_trial',
      planId: 'free',
      interval: 'month',
      trialEnd: at(14),
    };
    expect(transition(SNAPSHOTS.free, toFree, NOW)).toMatchObject({
      ok: false,
      error: { code: 'trial_not_available' },
    });
    const started = transition(SNAPSHOTS.free, INPUTS.start_trial, NOW);
    expect(started.ok && started.value.snapshot).toMatchObject({
      state: 'trialing',
      planId: 'business',
      trialUsed: true,
      trialEnd: at(14),
      currentPeriodEnd: at(14),
    });
  });

  it('checks the plan exists and is paid', () => {
    const noPlan = {
      ...Object.assign({}, INPUTS.checkout_completed),
      planId: 'enterprise',
    } as unknown as SubscriptionInput;
    expect(transition(SNAPSHOTS.free, noPlan, NOW)).toMatchObject({
      ok: false,
      error: { code: 'plan_not_found' },
    });
    const free: SubscriptionInput = { ...INPUTS.checkout_completed, planId: 'free' };
    expect(transition(SNAPSHOTS.free, free, NOW)).toMatchObject({
      ok: false,
      error: { code: 'plan_not_found' },
    });
    const toFree: SubscriptionInput = {
      type: 'change_plan',
      planId: 'free',
      interval: 'month',
      memberCount: 1,
    };
    expect(transition(SNAPSHOTS.active, toFree, NOW)).toMatchObject({
      ok: false,
      error: { code: 'plan_not_found' },
    });
  });

  it('keeps the current tier on a downgrade until the period ends, then applies it at renewal', () => {
    const business = {
      ...SNAPSHOTS.active,
      planId: 'business' as const,
      interval: 'month' as const,
      seats: 2,
    };
    const down = transition(
      business,
      { type: 'change_plan', planId: 'pro', interval: 'month', memberCount: 4 },
      NOW,
    );
    expect(down.ok && down.value.snapshot).toMatchObject({
      planId: 'business',
      pendingPlanChange: { planId: 'pro', interval: 'month', effectiveAt: at(20) },
    });
    const pending = down.ok ? down.value.snapshot : business;

    const early = transition(pending, { type: 'payment_succeeded' }, at(5));
    expect(early.ok && early.value.snapshot.planId).toBe('business');

    const renewed = transition(pending, { type: 'payment_succeeded', currentPeriodEnd: at(50) }, at(20));
    expect(renewed.ok && renewed.value.snapshot).toMatchObject({
      planId: 'pro',
      interval: 'month',
      seats: 2,
    });
    expect(renewed.ok && renewed.value.snapshot.pendingPlanChange).toBeUndefined();
    expect(renewed.ok && renewed.value.events.map((e) => e.type)).toEqual([
      'subscription.renewed',
      'subscription.plan_changed',
    ]);
  });

  it('applies a downgrade scheduled during a trial when the trial converts', () => {
    const trial = { ...SNAPSHOTS.trialing, planId: 'business' as const };
    const down = transition(
      trial,
      { type: 'change_plan', planId: 'pro', interval: 'year', memberCount: 1 },
      NOW,
    );
    const pending = down.ok ? down.value.snapshot : trial;
    const converted = transition(pending, { type: 'trial_ended_paid', currentPeriodEnd: at(40) }, at(10));
    expect(converted.ok && converted.value.snapshot).toMatchObject({ state: 'active', planId: 'pro' });
    expect(converted.ok && converted.value.snapshot.trialEnd).toBeUndefined();
  });

  it('withdraws a scheduled downgrade when the current plan is chosen again, else same_plan', () => {
    const business = { ...SNAPSHOTS.active, planId: 'business' as const };
    const same: SubscriptionInput = {
      type: 'change_plan',
      planId: 'business',
      interval: 'year',
      memberCount: 1,
    };
    expect(transition(business, same, NOW)).toMatchObject({
      ok: false,
      error: { code: 'same_plan' },
    });
    const down = transition(
      business,
      { type: 'change_plan', planId: 'pro', interval: 'year', memberCount: 1 },
      NOW,
    );
    const pending = down.ok ? down.value.snapshot : business;
    expect(pending.pendingPlanChange).toMatchObject({ planId: 'pro', interval: 'year' });
    const back = transition(pending, same, NOW);
    expect(back.ok && back.value.snapshot).toMatchObject({ planId: 'business', interval: 'year' });
    expect(back.ok && back.value.snapshot.pendingPlanChange).toBeUndefined();
    expect(back.ok && back.value.events[0]).toMatchObject({
      type: 'subscription.plan_change_withdrawn',
      planId: 'business',
      withdrawnPlanId: 'pro',
      withdrawnInterval: 'year',
    });
    // Withdrawn, nothing is left to switch at the renewal.
    const renewed = transition(
      back.ok ? back.value.snapshot : pending,
      { type: 'payment_succeeded', currentPeriodEnd: at(385) },
      at(20),
    );
    expect(renewed.ok && renewed.value.snapshot.planId).toBe('business');
    expect(renewed.ok && renewed.value.events.map((e) => e.type)).toEqual(['subscription.renewed']);
  });

  it('applies an interval change at once in either direction, with the new period end (the cycle restarts)', () => {
    const monthly = { ...SNAPSHOTS.active, interval: 'month' as const };
    const toYear = transition(
      monthly,
      { type: 'change_plan', planId: 'pro', interval: 'year', memberCount: 1, currentPeriodEnd: at(365) },
      NOW,
    );
    expect(toYear.ok && toYear.value.snapshot).toMatchObject({
      planId: 'pro',
      interval: 'year',
      seats: 1,
      currentPeriodEnd: at(365),
    });
    expect(toYear.ok && toYear.value.events[0]).toMatchObject({
      type: 'subscription.plan_changed',
      direction: 'upgrade',
      fromInterval: 'month',
      toInterval: 'year',
    });
    // Yearly to monthly, and down a tier: no rest of the year to keep the tier for (Stripe credited it).
    const business = { ...SNAPSHOTS.active, planId: 'business' as const };
    const toMonth = transition(
      business,
      { type: 'change_plan', planId: 'pro', interval: 'month', memberCount: 1, currentPeriodEnd: at(30) },
      NOW,
    );
    expect(toMonth.ok && toMonth.value.snapshot).toMatchObject({
      planId: 'pro',
      interval: 'month',
      currentPeriodEnd: at(30),
    });
    expect(toMonth.ok && toMonth.value.snapshot.pendingPlanChange).toBeUndefined();
    expect(toMonth.ok && toMonth.value.events[0]).toMatchObject({ direction: 'downgrade' });
    // Without a known period end the current one stays until Stripe reports the new one.
    const unknownEnd = transition(business, { ...INPUTS.downgrade, memberCount: 1 }, NOW);
    expect(unknownEnd.ok && unknownEnd.value.snapshot.currentPeriodEnd).toEqual(at(20));
    // The seat rule holds in both directions; while past_due both are refused (Stripe invoices at once).
    expect(
      transition(business, { type: 'change_plan', planId: 'pro', interval: 'month', memberCount: 9 }, NOW),
    ).toMatchObject({ ok: false, error: { code: 'downgrade_blocked_by_seats' } });
    expect(
      transition(
        { ...SNAPSHOTS.past_due, interval: 'month' },
        { type: 'change_plan', planId: 'pro', interval: 'year', memberCount: 1 },
        NOW,
      ),
    ).toMatchObject({ ok: false, error: { code: 'outstanding_balance' } });
  });

  it('applies an upgrade at once and drops a scheduled downgrade', () => {
    const down = transition(SNAPSHOTS.active, INPUTS.downgrade, NOW);
    const pending = down.ok ? down.value.snapshot : SNAPSHOTS.active;
    const up = transition(pending, INPUTS.upgrade, NOW);
    expect(up.ok && up.value.snapshot).toMatchObject({ planId: 'business', interval: 'year', seats: 1 });
    expect(up.ok && up.value.snapshot.pendingPlanChange).toBeUndefined();
  });

  it('refuses a downgrade below the member count, naming how many to remove', () => {
    const business = { ...SNAPSHOTS.active, planId: 'business' as const, seats: 0 };
    const down = transition(
      business,
      { type: 'change_plan', planId: 'pro', interval: 'year', memberCount: 20 },
      NOW,
    );
    expect(down).toMatchObject({
      ok: false,
      error: { code: 'downgrade_blocked_by_seats', details: { membersToRemove: 15 } },
    });
  });

  it('refuses to reduce seats below the members and treats an unchanged count as a no-op', () => {
    const tooFew = transition(SNAPSHOTS.active, { type: 'change_seats', seats: 0, memberCount: 6 }, NOW);
    expect(tooFew).toMatchObject({
      ok: false,
      error: { code: 'downgrade_blocked_by_seats', details: { membersToRemove: 1 } },
    });
    const same = transition(SNAPSHOTS.active, { type: 'change_seats', seats: 1, memberCount: 6 }, NOW);
    expect(same).toEqual({ ok: true, value: { snapshot: SNAPSHOTS.active, effects: [], events: [] } });
    expect(() =>
      transition(SNAPSHOTS.active, { type: 'change_seats', seats: -1, memberCount: 1 }, NOW),
    ).toThrow(DomainInvariantError);
  });

  it('refuses add-on seats on a plan that sells none', () => {
    const noAddOns: Catalogue = {
      plans: DEFAULT_CATALOGUE.plans.map((p) => (p.id === 'pro' ? { ...p, seatAddOnPrices: {} } : p)),
    };
    const up = transition({ ...SNAPSHOTS.active, seats: 0 }, INPUTS.seats_up, NOW, noAddOns);
    expect(up).toMatchObject({ ok: false, error: { code: 'seat_addon_unavailable' } });
    const checkout = transition(SNAPSHOTS.free, INPUTS.checkout_completed, NOW, noAddOns);
    expect(checkout).toMatchObject({ ok: false, error: { code: 'seat_addon_unavailable' } });
    // A downgrade to a plan without add-ons drops the purchased seats when it takes effect.
    const down = transition(
      SNAPSHOTS.active,
      { type: 'change_plan', planId: 'pro', interval: 'month', memberCount: 3 },
      NOW,
      noAddOns,
    );
    const pending = down.ok ? down.value.snapshot : SNAPSHOTS.active;
    const renewed = transition(pending, { type: 'payment_succeeded' }, at(20), noAddOns);
    expect(renewed.ok && renewed.value.snapshot.seats).toBe(0);
  });

  it('suspends only when the grace period (days and attempts) is exhausted', () => {
    const early = { ...SNAPSHOTS.past_due, pastDueSince: at(-6) };
    expect(transition(early, INPUTS.grace_exhausted, NOW)).toMatchObject({
      ok: false,
      error: { code: 'grace_period_active', details: { graceDays: 7, minFailedAttempts: 3 } },
    });
    const fewAttempts = { ...SNAPSHOTS.past_due, failedAttempts: 2 };
    expect(transition(fewAttempts, INPUTS.grace_exhausted, NOW)).toMatchObject({ ok: false });
    const custom = transition(
      fewAttempts,
      { type: 'grace_exhausted', policy: { graceDays: 1, minFailedAttempts: 2 } },
      NOW,
    );
    expect(custom.ok && custom.value.snapshot.state).toBe('suspended');
  });

  it('counts failed attempts through dunning and clears them on payment', () => {
    const failed = transition(SNAPSHOTS.active, INPUTS.payment_failed, NOW);
    const pastDue = failed.ok ? failed.value.snapshot : SNAPSHOTS.active;
    expect(pastDue).toMatchObject({ state: 'past_due', pastDueSince: NOW, failedAttempts: 1 });
    expect(failed.ok && failed.value.effects[0]).toEqual({ kind: 'schedule_dunning', invoiceFailedAt: NOW });
    const again = transition(pastDue, INPUTS.payment_failed, at(3));
    expect(again.ok && again.value.snapshot).toMatchObject({ failedAttempts: 2, pastDueSince: NOW });
    const paid = transition(again.ok ? again.value.snapshot : pastDue, { type: 'payment_succeeded' }, at(4));
    expect(paid.ok && paid.value.snapshot).toMatchObject({
      state: 'active',
      failedAttempts: 0,
      currentPeriodEnd: at(20),
    });
    expect(paid.ok && paid.value.snapshot.pastDueSince).toBeUndefined();
  });

  it('resumes a cancellation scheduled during a trial back to trialing, and never after the end', () => {
    const canceled = transition(SNAPSHOTS.trialing, INPUTS.cancel_at_period_end, NOW);
    const pending = canceled.ok ? canceled.value.snapshot : SNAPSHOTS.trialing;
    const resumed = transition(pending, INPUTS.resume, at(1));
    expect(resumed.ok && resumed.value.snapshot.state).toBe('trialing');
    expect(resumed.ok && resumed.value.events[0]?.toState).toBe('trialing');
    expect(transition(pending, INPUTS.resume, at(10))).toMatchObject({
      ok: false,
      error: { code: 'invalid_transition', details: { reason: expect.any(String) } },
    });
    expect(transition(SNAPSHOTS.canceled_pending, INPUTS.resume, at(21))).toMatchObject({ ok: false });
  });

  it('drops a scheduled downgrade when the owner cancels, and reverts to Free at the end without losing the trial flag', () => {
    const down = transition(SNAPSHOTS.active, INPUTS.downgrade, NOW);
    const canceled = transition(
      down.ok ? down.value.snapshot : SNAPSHOTS.active,
      INPUTS.cancel_at_period_end,
      NOW,
    );
    expect(canceled.ok && canceled.value.snapshot.pendingPlanChange).toBeUndefined();
    const ended = transition(
      canceled.ok ? canceled.value.snapshot : SNAPSHOTS.active,
      INPUTS.period_ended,
      at(20),
    );
    expect(ended.ok && ended.value.snapshot).toEqual({
      state: 'expired',
      planId: 'free',
      interval: null,
      seats: 0,
      trialUsed: true,
      failedAttempts: 0,
      version: SNAPSHOTS.active.version + 3,
    });
  });

  it('reports broken snapshots', () => {
    expect(checkSubscriptionInvariants({ ...SNAPSHOTS.free, planId: 'pro' })).not.toEqual([]);
    expect(checkSubscriptionInvariants({ ...SNAPSHOTS.active, currentPeriodEnd: undefined })).not.toEqual([]);
    expect(checkSubscriptionInvariants({ ...SNAPSHOTS.past_due, failedAttempts: 0 })).not.toEqual([]);
    expect(checkSubscriptionInvariants({ ...SNAPSHOTS.active, pastDueSince: NOW })).not.toEqual([]);
    expect(checkSubscriptionInvariants({ ...SNAPSHOTS.trialing, trialEnd: undefined })).not.toEqual([]);
    expect(
      checkSubscriptionInvariants({
        ...SNAPSHOTS.canceled_pending,
        pendingPlanChange: { planId: 'pro', interval: 'month', effectiveAt: NOW },
      }),
    ).not.toEqual([]);
    expect(
      checkSubscriptionInvariants({ ...SNAPSHOTS.free, state: 'weird' as SubscriptionState }),
    ).not.toEqual([]);
    for (const s of Object.values(SNAPSHOTS)) expect(checkSubscriptionInvariants(s)).toEqual([]);
  });

  it('throws on corrupt snapshots instead of guessing', () => {
    const orphan = {
      ...SNAPSHOTS.active,
      pendingPlanChange: { planId: 'gold', interval: 'month', effectiveAt: NOW },
    } as unknown as SubscriptionSnapshot;
    expect(() => transition(orphan, { type: 'payment_succeeded' }, NOW)).toThrow(DomainInvariantError);
    const noPeriod = { ...SNAPSHOTS.active, planId: 'business' as const, currentPeriodEnd: undefined };
    expect(() =>
      transition(noPeriod, { type: 'change_plan', planId: 'pro', interval: 'year', memberCount: 1 }, NOW),
    ).toThrow(DomainInvariantError);
  });
});
