import { describe, expect, it } from '@jest/globals';
import { at, NOW, SNAPSHOTS } from './subscription.fixtures.js';
import { DEFAULT_CATALOGUE } from '../plan/plan.js';
import { transition } from './subscription.machine.js';
import {
  inputsForStripeReport,
  reportedState,
  stateInputPath,
  type StripeSubscriptionReport,
} from './stripe-inputs.js';
import {
  SUBSCRIPTION_STATES,
  type SubscriptionInput,
  type SubscriptionSnapshot,
  type SubscriptionState,
} from './subscription.types.js';

/** What Stripe would report of a subscription in `state` on the snapshots' plan. */
function report(
  state: SubscriptionState,
  overrides: Partial<StripeSubscriptionReport> = {},
): StripeSubscriptionReport {
  const free = state === 'free' || state === 'expired' || state === 'canceled_immediately';
  return {
    state,
    planId: free ? null : 'pro',
    interval: free ? null : 'year',
    seats: state === 'trialing' || free ? 0 : 1,
    currentPeriodEnd: free ? null : at(20),
    trialEnd: state === 'trialing' ? at(10) : null,
    ...overrides,
  };
}

/** Applies inputs one by one through the machine; the state reached, or the first rejection's code. */
function run(
  snapshot: SubscriptionSnapshot,
  inputs: SubscriptionInput[],
  now = NOW,
): SubscriptionSnapshot | string {
  let s = snapshot;
  for (const input of inputs) {
    const result = transition(s, input, now, DEFAULT_CATALOGUE);
    if (!result.ok) return `${input.type}: ${result.error.code}`;
    s = result.value.snapshot;
  }
  return s;
}

/** Applies a report's path then its changes, as the mirror does; the state reached or the refusal. */
function apply(
  snapshot: SubscriptionSnapshot,
  r: StripeSubscriptionReport,
  now = NOW,
): SubscriptionSnapshot | string {
  const inputs = inputsForStripeReport(snapshot, r);
  if (!inputs.ok) return inputs.error.code;
  const after = run(snapshot, inputs.value.path, now);
  if (typeof after === 'string') return after;
  // The path is all or nothing: a machine that ends elsewhere than Stripe reports refused it.
  if (inputs.value.path.length > 0 && after.state !== r.state) return 'reached_elsewhere';
  return inputs.value.changes.reduce<SubscriptionSnapshot>((s, input) => {
    const result = transition(s, input, now, DEFAULT_CATALOGUE);
    return result.ok ? result.value.snapshot : s;
  }, after);
}

const FREE_TIER: readonly SubscriptionState[] = ['free', 'expired', 'canceled_immediately'];

/**
 * Reports the machine refuses: no transition leads there (a paid subscription reported as never paid,
 * a trial after the one trial was used) or the dunning policy does not allow it yet (suspended before
 * the grace period is over). Every other move, even one that takes several steps because events were
 * missed, reaches exactly the state Stripe reports.
 */
const REFUSED: [SubscriptionState, SubscriptionState][] = [
  ...(['trialing', 'active', 'past_due', 'suspended', 'canceled_pending'] as const).map(
    (from) => [from, 'free'] as [SubscriptionState, SubscriptionState],
  ),
  ...(['active', 'past_due', 'suspended', 'canceled_pending'] as const).map(
    (from) => [from, 'trialing'] as [SubscriptionState, SubscriptionState],
  ),
  ...(['free', 'trialing', 'active', 'canceled_pending', 'expired', 'canceled_immediately'] as const).map(
    (from) => [from, 'suspended'] as [SubscriptionState, SubscriptionState],
  ),
];

describe('a Stripe report applied through the machine', () => {
  const pairs = SUBSCRIPTION_STATES.flatMap((from) => SUBSCRIPTION_STATES.map((to) => [from, to] as const));
  const reportFrom = (from: SubscriptionState, to: SubscriptionState) =>
    report(to, FREE_TIER.includes(to) ? {} : { seats: SNAPSHOTS[from].seats });

  it.each(pairs)('%s -> %s reaches what Stripe reports, keeps a free tier, or is refused', (from, to) => {
    const reached = apply(SNAPSHOTS[from], reportFrom(from, to), at(1));
    const outcome = typeof reached === 'string' ? 'refused' : reached.state;
    // A free-tier report without a plan keeps the state (with one, see 'first seen ended' below).
    const bothFree = FREE_TIER.includes(from) && FREE_TIER.includes(to);
    // Stripe reports a suspended subscription past_due: the app keeps it suspended (reportedState).
    const kept = from === 'suspended' && to === 'past_due';
    const expected = REFUSED.some(([f, t]) => f === from && t === to)
      ? 'refused'
      : bothFree || kept
        ? from
        : to;
    expect(outcome).toBe(expected);
  });
});

describe('stateInputPath', () => {
  it('is empty for the same state and the shortest way otherwise', () => {
    expect(stateInputPath('active', 'active')).toEqual([]);
    expect(stateInputPath('free', 'active')).toEqual(['checkout_completed']);
    expect(stateInputPath('active', 'expired')).toEqual(['cancel_at_period_end', 'period_ended']);
    expect(stateInputPath('active', 'free')).toBeNull();
    expect(stateInputPath('expired', 'suspended')).toEqual([
      'checkout_completed',
      'payment_failed',
      'grace_exhausted',
    ]);
  });
});

describe('inputsForStripeReport', () => {
  it('refuses a state no transition reaches, naming both', () => {
    const result = inputsForStripeReport(SNAPSHOTS.active, report('free'));
    expect(result).toEqual({
      ok: false,
      error: expect.objectContaining({ code: 'invalid_transition', details: { from: 'active', to: 'free' } }),
    });
  });

  it('refuses a checkout whose plan Stripe does not name (no price of the catalogue)', () => {
    const result = inputsForStripeReport(SNAPSHOTS.free, report('active', { planId: null, interval: null }));
    expect(result.ok ? null : result.error.details).toEqual({ input: 'checkout_completed', missing: 'plan' });
  });

  it('refuses a trial without its end, and a conversion without a period end', () => {
    // Without a trial end no trial can be started; the only other way (resuming into a trial) does
    // not reach it either.
    expect(apply(SNAPSHOTS.free, report('trialing', { trialEnd: null }))).toBe('reached_elsewhere');
    const paid = inputsForStripeReport(SNAPSHOTS.trialing, report('active', { currentPeriodEnd: null }));
    expect(paid.ok ? null : paid.error.details).toEqual({ input: 'trial_ended_paid', missing: 'period end' });
    const checkout = inputsForStripeReport(SNAPSHOTS.free, report('active', { currentPeriodEnd: null }));
    expect(checkout.ok ? null : checkout.error.details).toEqual({
      input: 'checkout_completed',
      missing: 'period end',
    });
  });

  it('carries the plan, seats and period of a checkout into the machine', () => {
    const result = inputsForStripeReport(SNAPSHOTS.free, report('active', { planId: 'business', seats: 3 }));
    expect(result.ok && result.value.path).toEqual([
      {
        type: 'checkout_completed',
        planId: 'business',
        interval: 'year',
        seats: 3,
        currentPeriodEnd: at(20),
      },
    ]);
  });

  it('asks for an upgrade and a seat change Stripe already billed, without the member rule', () => {
    const result = inputsForStripeReport(
      SNAPSHOTS.active,
      report('active', { planId: 'business', seats: 4 }),
    );
    expect(result.ok && result.value).toEqual({
      path: [],
      changes: [
        { type: 'change_plan', planId: 'business', interval: 'year', memberCount: 0 },
        { type: 'change_seats', seats: 4, memberCount: 0 },
      ],
    });
    const after = run(SNAPSHOTS.active, result.ok ? result.value.changes : []);
    expect(typeof after === 'string' ? after : [after.planId, after.seats]).toEqual(['business', 4]);
  });

  it('asks for a downgrade once: a change already scheduled is not asked again', () => {
    const business = { ...SNAPSHOTS.active, planId: 'business' as const };
    const first = inputsForStripeReport(business, report('active', { planId: 'pro', interval: 'year' }));
    const scheduled = run(business, first.ok ? first.value.changes : []);
    if (typeof scheduled === 'string') throw new Error(scheduled);
    expect([scheduled.planId, scheduled.interval, scheduled.pendingPlanChange?.planId]).toEqual([
      'business',
      'year',
      'pro',
    ]);
    const again = inputsForStripeReport(scheduled, report('active', { planId: 'pro', interval: 'year' }));
    expect(again.ok && again.value).toEqual({ path: [], changes: [] });
    // Stripe billing the kept plan again: the scheduled downgrade was withdrawn.
    const withdrawn = inputsForStripeReport(
      scheduled,
      report('active', { planId: 'business', interval: 'year' }),
    );
    const back = run(scheduled, withdrawn.ok ? withdrawn.value.changes : []);
    if (typeof back === 'string') throw new Error(back);
    expect([back.planId, back.pendingPlanChange]).toEqual(['business', undefined]);
  });

  it('takes an interval change with its new period end, not as a renewal (the billing cycle restarted)', () => {
    const result = inputsForStripeReport(
      SNAPSHOTS.active,
      report('active', { planId: 'pro', interval: 'month', currentPeriodEnd: at(30) }),
    );
    expect(result.ok && result.value.changes).toEqual([
      { type: 'change_plan', planId: 'pro', interval: 'month', memberCount: 0, currentPeriodEnd: at(30) },
    ]);
    const monthly = { ...SNAPSHOTS.active, interval: 'month' as const };
    const toYear = inputsForStripeReport(
      monthly,
      report('active', { planId: 'pro', interval: 'year', currentPeriodEnd: at(365) }),
    );
    const after = run(monthly, toYear.ok ? toYear.value.changes : []);
    if (typeof after === 'string') throw new Error(after);
    expect([after.interval, after.currentPeriodEnd]).toEqual(['year', at(365)]);
  });

  it('renews an active subscription whose period end moved on', () => {
    const result = inputsForStripeReport(SNAPSHOTS.active, report('active', { currentPeriodEnd: at(385) }));
    expect(result.ok && result.value).toEqual({
      path: [],
      changes: [{ type: 'payment_succeeded', currentPeriodEnd: at(385) }],
    });
    const same = inputsForStripeReport(SNAPSHOTS.active, report('active'));
    expect(same.ok && same.value).toEqual({ path: [], changes: [] });
  });

  it('keeps a suspended subscription that Stripe still reports past_due as it is (dunning suspended it)', () => {
    expect(reportedState('suspended', 'past_due')).toBe('suspended');
    for (const state of SUBSCRIPTION_STATES.filter((s) => s !== 'suspended')) {
      expect(reportedState(state, 'past_due')).toBe('past_due');
    }
    expect(reportedState('suspended', 'active')).toBe('active');
    expect(inputsForStripeReport(SNAPSHOTS.suspended, report('past_due'))).toEqual({
      ok: true,
      value: { path: [], changes: [] },
    });
  });

  it('reactivates a past_due subscription once, with its new period end', () => {
    const result = inputsForStripeReport(SNAPSHOTS.past_due, report('active', { currentPeriodEnd: at(50) }));
    expect(result.ok && result.value).toEqual({
      path: [{ type: 'payment_succeeded', currentPeriodEnd: at(50) }],
      changes: [],
    });
  });

  it('takes a subscription first seen ended through the live state it missed', () => {
    const result = inputsForStripeReport(
      SNAPSHOTS.free,
      report('canceled_immediately', { planId: 'pro', interval: 'month', currentPeriodEnd: at(20) }),
    );
    expect(result.ok && result.value.path.map((i) => i.type)).toEqual([
      'checkout_completed',
      'cancel_immediately',
    ]);
    const expired = inputsForStripeReport(
      SNAPSHOTS.free,
      report('expired', { planId: 'pro', interval: 'month', currentPeriodEnd: at(20) }),
    );
    expect(expired.ok && expired.value.path.map((i) => i.type)).toEqual([
      'checkout_completed',
      'cancel_at_period_end',
      'period_ended',
    ]);
    const relabel = inputsForStripeReport(
      SNAPSHOTS.expired,
      report('canceled_immediately', { planId: 'pro', interval: 'month' }),
    );
    expect(relabel.ok && relabel.value).toEqual({ path: [], changes: [] });
  });

  it('leaves a free-tier report without plan or seat inputs', () => {
    const result = inputsForStripeReport(SNAPSHOTS.canceled_pending, report('expired'));
    expect(result.ok && result.value).toEqual({ path: [{ type: 'period_ended' }], changes: [] });
  });
});
