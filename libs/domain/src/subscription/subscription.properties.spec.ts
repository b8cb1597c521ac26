import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { isDomainErrorCode } from '../kernel/errors.js';
import { DEFAULT_CATALOGUE, BILLING_INTERVALS } from '../plan/plan.js';
import { allowedTargets, checkSubscriptionInvariants, transition } from './subscription.machine.js';
import { decideStaleness, type ObjectUpdateMarker } from './staleness.js';
import { initialSubscription, SUBSCRIPTION_STATES, type SubscriptionInput } from './subscription.types.js';

const DAY = 86_400_000;
const START = Date.parse('2026-01-01T00:00:00.000Z');

const planId = fc.constantFrom(...DEFAULT_CATALOGUE.plans.map((p) => p.id));
const interval = fc.constantFrom(...BILLING_INTERVALS);
const future = fc.integer({ min: 1, max: 40 });

/** Inputs with the dates expressed as day offsets from the step's `now`. */
type Draft = (now: number) => SubscriptionInput;
const inputArb: fc.Arbitrary<Draft> = fc.oneof(
  fc.tuple(planId, interval, future).map(([p, i, d]): Draft => (now) => ({
    type: 'start_trial',
    planId: p,
    interval: i,
    trialEnd: new Date(now + d * DAY),
  })),
  fc.tuple(planId, interval, fc.nat(5), future).map(([p, i, seats, d]): Draft => (now) => ({
    type: 'checkout_completed',
    planId: p,
    interval: i,
    seats,
    currentPeriodEnd: new Date(now + d * DAY),
  })),
  future.map((d): Draft => (now) => ({
    type: 'trial_ended_paid',
    currentPeriodEnd: new Date(now + d * DAY),
  })),
  fc.constant((): SubscriptionInput => ({ type: 'trial_ended_without_payment_method' })),
  fc.constant((): SubscriptionInput => ({ type: 'cancel_at_period_end' })),
  fc.constant((): SubscriptionInput => ({ type: 'resume' })),
  fc.constant((): SubscriptionInput => ({ type: 'cancel_immediately' })),
  fc.constant((): SubscriptionInput => ({ type: 'payment_failed' })),
  fc.option(future).map(
    (d): Draft =>
      (now) =>
        d === null
          ? { type: 'payment_succeeded' }
          : { type: 'payment_succeeded', currentPeriodEnd: new Date(now + d * DAY) },
  ),
  fc.constant((): SubscriptionInput => ({ type: 'grace_exhausted' })),
  fc.constant((): SubscriptionInput => ({ type: 'period_ended' })),
  fc.tuple(planId, interval, fc.nat(30)).map(([p, i, m]): Draft => () => ({
    type: 'change_plan',
    planId: p,
    interval: i,
    memberCount: m,
  })),
  fc
    .tuple(fc.nat(10), fc.nat(30))
    .map(([seats, m]): Draft => () => ({ type: 'change_seats', seats, memberCount: m })),
);

describe('subscription machine properties (fast-check)', () => {
  it('random input sequences never reach an undefined state', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(inputArb, fc.nat(4 * DAY)), { maxLength: 40 }), (steps) => {
        let snapshot = initialSubscription();
        let now = START;
        const violations: unknown[] = [];
        for (const [draft, gap] of steps) {
          now += gap;
          const input = draft(now);
          const before = snapshot;
          const result = transition(snapshot, input, new Date(now), DEFAULT_CATALOGUE);
          if (!result.ok) {
            if (!isDomainErrorCode(result.error.code)) violations.push(result.error);
            continue;
          }
          snapshot = result.value.snapshot;
          const changed = result.value.events.length > 0;
          const problems = [
            ...checkSubscriptionInvariants(snapshot),
            ...(SUBSCRIPTION_STATES.includes(snapshot.state) ? [] : ['unknown state']),
            ...(changed || snapshot === before ? [] : ['a no-op changed the snapshot']),
            ...(!changed || allowedTargets(before.state, input.type)?.includes(snapshot.state)
              ? []
              : ['not in table']),
            ...(!changed || snapshot.version === before.version + 1 ? [] : ['version did not grow by one']),
            // Once a trial was used it stays used.
            ...(!before.trialUsed || snapshot.trialUsed ? [] : ['trialUsed was reset']),
          ];
          if (problems.length > 0) violations.push({ from: before, input, to: snapshot, problems });
        }
        expect(violations).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });

  it('stale events never move a subscription backwards', () => {
    // Stripe object versions 0..n, created at non-decreasing seconds (ties happen), delivered in any
    // order with duplicates. The app applies, skips or refetches (re-reading the newest version).
    const history = fc
      .array(fc.nat(2), { minLength: 1, maxLength: 15 })
      .map((gaps) => gaps.reduce<number[]>((acc, g) => [...acc, (acc.at(-1) ?? 1_700_000_000) + g], []));
    fc.assert(
      fc.property(
        history.chain((created) =>
          fc
            .shuffledSubarray([...created.keys(), ...created.keys()], { minLength: 1 })
            .map((order) => ({ created, order })),
        ),
        fc.boolean(),
        ({ created, order }, withVersions) => {
          const newest = created.length - 1;
          let applied: { marker: ObjectUpdateMarker; version: number } | null = null;
          for (const version of order) {
            const incoming: ObjectUpdateMarker = withVersions
              ? { eventCreated: created[version] ?? 0, objectVersion: version }
              : { eventCreated: created[version] ?? 0 };
            const decision = decideStaleness({ lastApplied: applied?.marker ?? null, incoming });
            const previous = applied?.version ?? -1;
            if (decision === 'apply') applied = { marker: incoming, version };
            if (decision === 'refetch') {
              // Re-reading from Stripe yields the current object, as of the newest event.
              applied = {
                marker: { eventCreated: created[newest] ?? 0, objectVersion: newest },
                version: newest,
              };
            }
            expect((applied?.version ?? -1) >= previous).toBe(true);
            expect(decision !== 'skip_stale' || version <= (applied?.version ?? -1)).toBe(true);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
