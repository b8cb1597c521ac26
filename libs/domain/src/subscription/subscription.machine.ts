import { DomainInvariantError, rejection, type DomainRejection } from '../kernel/errors.js';
import { err, ok, type Result } from '../kernel/result.js';
import { isGraceExhausted, DEFAULT_GRACE_POLICY } from '../dunning/dunning.js';
import {
  comparePlans,
  FREE_PLAN_ID,
  findPlan,
  type BillingInterval,
  type Catalogue,
  type PlanDefinition,
  type PlanId,
} from '../plan/plan.js';
import { checkDowngradeSeats, sellsAddOnSeats } from '../seat/seat.js';
import type { SubscriptionEvent } from './subscription.events.js';
import {
  isLiveState,
  SUBSCRIPTION_STATES,
  type SubscriptionEffect,
  type SubscriptionInput,
  type SubscriptionInputType,
  type SubscriptionSnapshot,
  type SubscriptionState,
} from './subscription.types.js';

type TransitionTable = Readonly<
  Record<SubscriptionState, Readonly<Partial<Record<SubscriptionInputType, readonly SubscriptionState[]>>>>
>;

const FROM_FREE_TIER = { start_trial: ['trialing'], checkout_completed: ['active'] } as const;

/**
 * The allowed transitions (SPEC section 4) as data: state -> input -> possible targets. A pair that is
 * not listed is rejected with `invalid_transition`. Beyond the SPEC table, written down on purpose:
 * - plan and seat changes keep the state (trialing stays trialing, past_due stays past_due): a plan
 *   change is not a payment, so it can neither end a trial nor settle an unpaid invoice;
 * - a failed retry while past_due or suspended only counts the attempt (self-loop);
 * - a renewal paid while active is a self-loop that moves the period (and applies a due downgrade);
 * - trialing -> past_due when the first invoice after the trial fails (what Stripe does);
 * - resuming a cancellation scheduled during a trial returns to trialing (the inverse of
 *   trialing -> canceled_pending), before the trial ends;
 * - seats may change while a cancellation is pending: the subscription is billed until its period
 *   ends, and its members keep their seats until then (a plan change would be pointless: refused).
 */
export const SUBSCRIPTION_TRANSITIONS = {
  free: FROM_FREE_TIER,
  expired: FROM_FREE_TIER,
  canceled_immediately: FROM_FREE_TIER,
  trialing: {
    trial_ended_paid: ['active'],
    trial_ended_without_payment_method: ['expired'],
    cancel_at_period_end: ['canceled_pending'],
    cancel_immediately: ['canceled_immediately'],
    payment_failed: ['past_due'],
    change_plan: ['trialing'],
    change_seats: ['trialing'],
  },
  active: {
    payment_failed: ['past_due'],
    payment_succeeded: ['active'],
    cancel_at_period_end: ['canceled_pending'],
    cancel_immediately: ['canceled_immediately'],
    change_plan: ['active'],
    change_seats: ['active'],
  },
  past_due: {
    payment_failed: ['past_due'],
    payment_succeeded: ['active'],
    grace_exhausted: ['suspended'],
    cancel_immediately: ['canceled_immediately'],
    change_plan: ['past_due'],
    change_seats: ['past_due'],
  },
  suspended: {
    payment_failed: ['suspended'],
    payment_succeeded: ['active'],
    cancel_immediately: ['canceled_immediately'],
  },
  canceled_pending: {
    resume: ['active', 'trialing'],
    period_ended: ['expired'],
    cancel_immediately: ['canceled_immediately'],
    change_seats: ['canceled_pending'],
  },
} as const satisfies TransitionTable;

/** Where each input normally leads (used to name `to` in an invalid_transition rejection). */
const INTENDED_TARGET = {
  start_trial: 'trialing',
  checkout_completed: 'active',
  trial_ended_paid: 'active',
  trial_ended_without_payment_method: 'expired',
  cancel_at_period_end: 'canceled_pending',
  resume: 'active',
  cancel_immediately: 'canceled_immediately',
  payment_failed: 'past_due',
  payment_succeeded: 'active',
  grace_exhausted: 'suspended',
  period_ended: 'expired',
  change_plan: 'active',
  change_seats: 'active',
} as const satisfies Record<SubscriptionInputType, SubscriptionState>;

/** The targets the table allows for (state, input), or undefined when the pair is forbidden. */
export function allowedTargets(
  state: SubscriptionState,
  inputType: SubscriptionInputType,
): readonly SubscriptionState[] | undefined {
  const row: Partial<Record<SubscriptionInputType, readonly SubscriptionState[]>> =
    SUBSCRIPTION_TRANSITIONS[state];
  return row[inputType];
}

/** The inputs the table accepts in `state`. */
export function allowedInputs(state: SubscriptionState): SubscriptionInputType[] {
  return Object.keys(SUBSCRIPTION_TRANSITIONS[state]) as SubscriptionInputType[];
}

/** The new snapshot, the effects to carry out and the domain events to publish. */
export interface SubscriptionTransition {
  readonly snapshot: SubscriptionSnapshot;
  readonly effects: SubscriptionEffect[];
  readonly events: SubscriptionEvent[];
}

interface Step {
  next: SubscriptionSnapshot;
  effects: SubscriptionEffect[];
  events: SubscriptionEvent[];
}

const INVALIDATE: SubscriptionEffect = { kind: 'invalidate_entitlements' };

function iso(date: Date | undefined): string | null {
  return date ? date.toISOString() : null;
}

function base<T extends SubscriptionEvent['type']>(
  type: T,
  from: SubscriptionState,
  to: SubscriptionState,
  now: Date,
) {
  return { type, version: 1 as const, occurredAt: now.toISOString(), fromState: from, toState: to };
}

/** Drops optional fields set to undefined so that snapshots compare and serialise cleanly. */
function clean(s: SubscriptionSnapshot): SubscriptionSnapshot {
  return Object.fromEntries(
    Object.entries(s).filter(([, v]) => v !== undefined),
  ) as unknown as SubscriptionSnapshot;
}

function toFreeTier(
  s: SubscriptionSnapshot,
  state: 'expired' | 'canceled_immediately',
): SubscriptionSnapshot {
  return {
    state,
    planId: FREE_PLAN_ID,
    interval: null,
    seats: 0,
    trialUsed: s.trialUsed,
    failedAttempts: 0,
    version: s.version,
  };
}

function assertCount(value: number, name: string): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new DomainInvariantError(`${name} must be a non-negative integer`, { [name]: value });
  }
}

function invalidTransition(
  s: SubscriptionSnapshot,
  input: SubscriptionInput,
  reason?: string,
): DomainRejection {
  return rejection(
    'invalid_transition',
    reason ?? `cannot apply '${input.type}' to a subscription in state '${s.state}'`,
    {
      from: s.state,
      to: INTENDED_TARGET[input.type],
      input: input.type,
      allowedInputs: allowedInputs(s.state),
      ...(reason ? { reason } : {}),
    },
  );
}

function paidPlan(
  catalogue: Catalogue,
  planId: PlanId,
  interval: BillingInterval,
): Result<PlanDefinition, DomainRejection> {
  const found = findPlan(catalogue, planId);
  if (!found.ok) return found;
  const price = found.value.prices[interval];
  if (!price || price.amountMinor <= 0) {
    return err(
      rejection('plan_not_found', `no paid '${planId}' plan billed per ${interval}`, { planId, interval }),
    );
  }
  return found;
}

function withPlan(
  s: SubscriptionSnapshot,
  plan: PlanDefinition,
  interval: BillingInterval,
): SubscriptionSnapshot {
  return {
    ...s,
    planId: plan.id,
    interval,
    seats: sellsAddOnSeats(plan, interval) ? s.seats : 0,
    pendingPlanChange: undefined,
  };
}

/** Applies a scheduled downgrade whose effective time has come (at renewal). */
function applyDuePendingChange(
  s: SubscriptionSnapshot,
  from: SubscriptionState,
  now: Date,
  catalogue: Catalogue,
): { next: SubscriptionSnapshot; events: SubscriptionEvent[] } {
  const pending = s.pendingPlanChange;
  if (!pending || now.getTime() < pending.effectiveAt.getTime()) return { next: s, events: [] };
  const target = findPlan(catalogue, pending.planId);
  if (!target.ok)
    throw new DomainInvariantError('a scheduled plan change names an unknown plan', { ...pending });
  const next = withPlan(s, target.value, pending.interval);
  return {
    next,
    events: [
      {
        ...base('subscription.plan_changed', from, next.state, now),
        fromPlanId: s.planId,
        toPlanId: next.planId,
        fromInterval: s.interval,
        toInterval: pending.interval,
        direction: 'downgrade',
      },
    ],
  };
}

function changePlan(
  s: SubscriptionSnapshot,
  input: Extract<SubscriptionInput, { type: 'change_plan' }>,
  now: Date,
  catalogue: Catalogue,
): Result<Step, DomainRejection> {
  assertCount(input.memberCount, 'memberCount');
  const target = paidPlan(catalogue, input.planId, input.interval);
  if (!target.ok) return target;
  const current = findPlan(catalogue, s.planId);
  if (!current.ok) return current;
  const direction = comparePlans(current.value, target.value, s.interval ?? undefined, input.interval);
  const from = s.state;

  if (direction === 'same') {
    if (!s.pendingPlanChange) {
      return err(
        rejection('same_plan', 'this is already the current plan', {
          planId: s.planId,
          interval: s.interval,
        }),
      );
    }
    // Choosing the current plan again withdraws a scheduled downgrade.
    const next = { ...s, pendingPlanChange: undefined };
    return ok({
      next,
      effects: [INVALIDATE],
      events: [
        {
          ...base('subscription.plan_change_withdrawn', from, from, now),
          planId: s.planId,
          withdrawnPlanId: s.pendingPlanChange.planId,
          withdrawnInterval: s.pendingPlanChange.interval,
        },
      ],
    });
  }
  // An interval change restarts the billing cycle at Stripe, which invoices it at once: there is no
  // rest of the current period to keep a tier for, and an invoice now needs the open one paid first.
  const restartsCycle = s.state !== 'trialing' && s.interval !== null && s.interval !== input.interval;
  if ((direction === 'upgrade' || restartsCycle) && s.state === 'past_due') {
    return err(
      rejection('outstanding_balance', 'pay the outstanding invoice before upgrading', {
        pastDueSince: iso(s.pastDueSince),
        action: 'pay_outstanding',
      }),
    );
  }
  const seats = checkDowngradeSeats({
    targetPlan: target.value,
    purchasedSeats: sellsAddOnSeats(target.value, input.interval) ? s.seats : 0,
    memberCount: input.memberCount,
  });
  if (!seats.ok) return seats;

  if (direction === 'upgrade' || restartsCycle) {
    const changed = withPlan(s, target.value, input.interval);
    const next =
      restartsCycle && input.currentPeriodEnd
        ? { ...changed, currentPeriodEnd: input.currentPeriodEnd }
        : changed;
    return ok({
      next,
      effects: [INVALIDATE],
      events: [
        {
          ...base('subscription.plan_changed', from, from, now),
          fromPlanId: s.planId,
          toPlanId: next.planId,
          fromInterval: s.interval,
          toInterval: input.interval,
          direction,
        },
      ],
    });
  }
  const effectiveAt = s.currentPeriodEnd;
  if (!effectiveAt)
    throw new DomainInvariantError('a live subscription has no period end', { state: s.state });
  return ok({
    next: { ...s, pendingPlanChange: { planId: target.value.id, interval: input.interval, effectiveAt } },
    effects: [INVALIDATE],
    events: [
      {
        ...base('subscription.plan_change_scheduled', from, from, now),
        fromPlanId: s.planId,
        toPlanId: target.value.id,
        toInterval: input.interval,
        effectiveAt: effectiveAt.toISOString(),
      },
    ],
  });
}

function changeSeats(
  s: SubscriptionSnapshot,
  input: Extract<SubscriptionInput, { type: 'change_seats' }>,
  now: Date,
  catalogue: Catalogue,
): Result<Step, DomainRejection> {
  assertCount(input.seats, 'seats');
  assertCount(input.memberCount, 'memberCount');
  const plan = findPlan(catalogue, s.planId);
  if (!plan.ok) return plan;
  if (input.seats === s.seats) return ok({ next: s, effects: [], events: [] });
  if (input.seats > 0 && !sellsAddOnSeats(plan.value, s.interval ?? undefined)) {
    return err(
      rejection('seat_addon_unavailable', `the ${plan.value.name} plan sells no extra seats`, {
        planId: s.planId,
      }),
    );
  }
  if (input.seats > s.seats && s.state === 'past_due') {
    return err(
      rejection('outstanding_balance', 'pay the outstanding invoice before buying seats', {
        pastDueSince: iso(s.pastDueSince),
        action: 'pay_outstanding',
      }),
    );
  }
  const fits = checkDowngradeSeats({
    targetPlan: plan.value,
    purchasedSeats: input.seats,
    memberCount: input.memberCount,
  });
  if (!fits.ok) return fits;
  return ok({
    next: { ...s, seats: input.seats },
    effects: [INVALIDATE],
    events: [
      {
        ...base('subscription.seats_changed', s.state, s.state, now),
        fromSeats: s.seats,
        toSeats: input.seats,
      },
    ],
  });
}

function step(
  s: SubscriptionSnapshot,
  input: SubscriptionInput,
  now: Date,
  catalogue: Catalogue,
): Result<Step, DomainRejection> {
  const from = s.state;
  switch (input.type) {
    case 'start_trial': {
      if (s.trialUsed) return err(rejection('trial_already_used', 'this account has already had its trial'));
      const candidate = findPlan(catalogue, input.planId);
      if (!candidate.ok) return candidate;
      if (!candidate.value.trialEligible) {
        return err(
          rejection('trial_not_available', `the ${candidate.value.name} plan has no trial`, {
            planId: input.planId,
          }),
        );
      }
      const plan = paidPlan(catalogue, input.planId, input.interval);
      if (!plan.ok) return plan;
      const next: SubscriptionSnapshot = {
        state: 'trialing',
        planId: input.planId,
        interval: input.interval,
        seats: 0,
        trialUsed: true,
        trialEnd: input.trialEnd,
        currentPeriodEnd: input.trialEnd,
        failedAttempts: 0,
        version: s.version,
      };
      return ok({
        next,
        effects: [INVALIDATE, { kind: 'notify', template: 'trial_started' }],
        events: [
          {
            ...base('subscription.trial_started', from, 'trialing', now),
            planId: input.planId,
            interval: input.interval,
            trialEnd: input.trialEnd.toISOString(),
          },
        ],
      });
    }
    case 'checkout_completed': {
      assertCount(input.seats, 'seats');
      const plan = paidPlan(catalogue, input.planId, input.interval);
      if (!plan.ok) return plan;
      if (input.seats > 0 && !sellsAddOnSeats(plan.value, input.interval)) {
        return err(rejection('seat_addon_unavailable', `the ${plan.value.name} plan sells no extra seats`));
      }
      const next: SubscriptionSnapshot = {
        state: 'active',
        planId: input.planId,
        interval: input.interval,
        seats: input.seats,
        trialUsed: s.trialUsed,
        currentPeriodEnd: input.currentPeriodEnd,
        failedAttempts: 0,
        version: s.version,
      };
      return ok({
        next,
        effects: [INVALIDATE],
        events: [
          {
            ...base('subscription.activated', from, 'active', now),
            planId: input.planId,
            interval: input.interval,
            seats: input.seats,
            currentPeriodEnd: input.currentPeriodEnd.toISOString(),
          },
        ],
      });
    }
    case 'trial_ended_paid': {
      const converted = {
        ...s,
        state: 'active' as const,
        currentPeriodEnd: input.currentPeriodEnd,
        trialEnd: undefined,
      };
      const applied = applyDuePendingChange(converted, from, now, catalogue);
      return ok({
        next: applied.next,
        effects: [INVALIDATE],
        events: [
          {
            ...base('subscription.trial_converted', from, 'active', now),
            planId: s.planId,
            currentPeriodEnd: input.currentPeriodEnd.toISOString(),
          },
          ...applied.events,
        ],
      });
    }
    case 'trial_ended_without_payment_method':
      return ok({
        next: toFreeTier(s, 'expired'),
        effects: [INVALIDATE],
        events: [{ ...base('subscription.trial_expired', from, 'expired', now), planId: s.planId }],
      });
    case 'cancel_at_period_end':
      return ok({
        next: { ...s, state: 'canceled_pending', pendingPlanChange: undefined },
        effects: [INVALIDATE],
        events: [
          {
            ...base('subscription.cancellation_scheduled', from, 'canceled_pending', now),
            effectiveAt: iso(s.currentPeriodEnd),
          },
        ],
      });
    case 'resume': {
      const end = s.trialEnd ?? s.currentPeriodEnd;
      if (end && now.getTime() >= end.getTime()) {
        return err(
          invalidTransition(s, input, 'the period has already ended: subscribe again through checkout'),
        );
      }
      const to = s.trialEnd ? 'trialing' : 'active';
      return ok({
        next: { ...s, state: to },
        effects: [INVALIDATE],
        events: [base('subscription.resumed', from, to, now)],
      });
    }
    case 'cancel_immediately': {
      const inDunning = from === 'past_due' || from === 'suspended';
      return ok({
        next: toFreeTier(s, 'canceled_immediately'),
        effects: inDunning ? [{ kind: 'cancel_dunning' }, INVALIDATE] : [INVALIDATE],
        events: [{ ...base('subscription.canceled', from, 'canceled_immediately', now), planId: s.planId }],
      });
    }
    case 'payment_failed': {
      if (from === 'past_due' || from === 'suspended') {
        const next = { ...s, failedAttempts: s.failedAttempts + 1 };
        return ok({
          next,
          effects: [],
          events: [
            {
              ...base('subscription.payment_failed', from, from, now),
              failedAttempts: next.failedAttempts,
              pastDueSince: (s.pastDueSince ?? now).toISOString(),
            },
          ],
        });
      }
      const next = {
        ...s,
        state: 'past_due' as const,
        pastDueSince: now,
        failedAttempts: 1,
        trialEnd: undefined,
      };
      return ok({
        next,
        effects: [{ kind: 'schedule_dunning', invoiceFailedAt: now }, INVALIDATE],
        events: [
          {
            ...base('subscription.payment_failed', from, 'past_due', now),
            failedAttempts: 1,
            pastDueSince: now.toISOString(),
          },
        ],
      });
    }
    case 'payment_succeeded': {
      const paid = {
        ...s,
        state: 'active' as const,
        pastDueSince: undefined,
        failedAttempts: 0,
        currentPeriodEnd: input.currentPeriodEnd ?? s.currentPeriodEnd,
      };
      const applied = applyDuePendingChange(paid, from, now, catalogue);
      if (from === 'active') {
        return ok({
          next: applied.next,
          effects: [INVALIDATE],
          events: [
            {
              ...base('subscription.renewed', from, 'active', now),
              currentPeriodEnd: iso(paid.currentPeriodEnd),
            },
            ...applied.events,
          ],
        });
      }
      return ok({
        next: applied.next,
        effects: [
          { kind: 'cancel_dunning' },
          { kind: 'notify', template: 'account_reactivated' },
          INVALIDATE,
        ],
        events: [base('subscription.reactivated', from, 'active', now), ...applied.events],
      });
    }
    case 'grace_exhausted': {
      const policy = input.policy ?? DEFAULT_GRACE_POLICY;
      if (!isGraceExhausted(s, now, policy)) {
        return err(
          rejection('grace_period_active', 'the grace period is not over yet', {
            pastDueSince: iso(s.pastDueSince),
            failedAttempts: s.failedAttempts,
            graceDays: policy.graceDays,
            minFailedAttempts: policy.minFailedAttempts,
          }),
        );
      }
      return ok({
        next: { ...s, state: 'suspended' },
        effects: [INVALIDATE],
        events: [
          {
            ...base('subscription.suspended', from, 'suspended', now),
            pastDueSince: (s.pastDueSince ?? now).toISOString(),
            failedAttempts: s.failedAttempts,
          },
        ],
      });
    }
    case 'period_ended':
      return ok({
        next: toFreeTier(s, 'expired'),
        effects: [INVALIDATE],
        events: [{ ...base('subscription.expired', from, 'expired', now), planId: s.planId }],
      });
    case 'change_plan':
      return changePlan(s, input, now, catalogue);
    case 'change_seats':
      return changeSeats(s, input, now, catalogue);
  }
}

/**
 * The subscription state machine (R-SM-1): applies one command or event at `now`. Returns the new
 * snapshot (version + 1) with the effects to carry out and the events to publish, or a rejection.
 * A forbidden (state, input) pair is `invalid_transition` with `from`, `to` and `input` in details.
 * An accepted input that changes nothing (same seat count) returns the snapshot unchanged, no events.
 * `catalogue` is the operator's configured catalogue (plans are data, never a fixed list here).
 */
export function transition(
  snapshot: SubscriptionSnapshot,
  input: SubscriptionInput,
  now: Date,
  catalogue: Catalogue,
): Result<SubscriptionTransition, DomainRejection> {
  const targets = allowedTargets(snapshot.state, input.type);
  if (!targets) return err(invalidTransition(snapshot, input));
  const result = step(snapshot, input, now, catalogue);
  if (!result.ok) return result;
  const { next, effects, events } = result.value;
  if (events.length === 0) return ok({ snapshot, effects: [], events: [] });
  if (!targets.includes(next.state)) {
    throw new DomainInvariantError('transition produced a state the table does not allow', {
      from: snapshot.state,
      to: next.state,
      input: input.type,
    });
  }
  return ok({ snapshot: clean({ ...next, version: snapshot.version + 1 }), effects, events });
}

/**
 * The consistency rules of a snapshot (R-CORE-2): an empty list means it is in exactly one
 * well-defined state. Used on data loaded from storage and by the property tests.
 */
export function checkSubscriptionInvariants(s: SubscriptionSnapshot): string[] {
  const problems: string[] = [];
  const check = (condition: boolean, problem: string): void => {
    if (!condition) problems.push(problem);
  };
  check((SUBSCRIPTION_STATES as readonly string[]).includes(s.state), `unknown state '${String(s.state)}'`);
  check(Number.isSafeInteger(s.seats) && s.seats >= 0, 'seats must be a non-negative integer');
  check(Number.isSafeInteger(s.failedAttempts) && s.failedAttempts >= 0, 'failedAttempts must be >= 0');
  check(Number.isSafeInteger(s.version) && s.version >= 0, 'version must be >= 0');
  if (!isLiveState(s.state)) {
    check(
      s.planId === FREE_PLAN_ID && s.interval === null && s.seats === 0,
      'a free-tier state must be on the free plan',
    );
    check(
      !s.currentPeriodEnd && !s.trialEnd && !s.pastDueSince,
      'a free-tier state has no period, trial or debt',
    );
    check(
      s.failedAttempts === 0 && !s.pendingPlanChange,
      'a free-tier state has no dunning or pending change',
    );
    return problems;
  }
  check(s.planId !== FREE_PLAN_ID && s.interval !== null, 'a live state must be on a paid plan');
  check(s.currentPeriodEnd !== undefined, 'a live state must have a period end');
  if (s.state === 'trialing') check(s.trialEnd !== undefined && s.trialUsed, 'trialing needs a trial end');
  if (s.state === 'past_due' || s.state === 'suspended') {
    check(
      s.pastDueSince !== undefined && s.failedAttempts >= 1,
      `${s.state} needs pastDueSince and a failed attempt`,
    );
  } else {
    check(s.pastDueSince === undefined && s.failedAttempts === 0, `${s.state} has no outstanding debt`);
  }
  if (s.state === 'canceled_pending')
    check(!s.pendingPlanChange, 'a cancellation supersedes a scheduled change');
  return problems;
}
