import { rejection, type DomainRejection } from '../kernel/errors.js';
import { err, ok, type Result } from '../kernel/result.js';
import type { BillingInterval, PlanId } from '../plan/plan.js';
import { SUBSCRIPTION_TRANSITIONS } from './subscription.machine.js';
import {
  isLiveState,
  type SubscriptionInput,
  type SubscriptionInputType,
  type SubscriptionSnapshot,
  type SubscriptionState,
} from './subscription.types.js';

/**
 * What Stripe reports of a subscription, as the machine needs it: the app state the mapping derives
 * from it (`mapStripeSubscription`, R-SM-2) and the plan, seats and dates it bills.
 */
export interface StripeSubscriptionReport {
  readonly state: SubscriptionState;
  /** The plan of the base price; null when no price of the catalogue is on the subscription. */
  readonly planId: PlanId | null;
  readonly interval: BillingInterval | null;
  /** Purchased add-on seats (the seat item's quantity). */
  readonly seats: number;
  readonly currentPeriodEnd: Date | null;
  readonly trialEnd: Date | null;
}

/**
 * The app state a Stripe report stands for, given the app's current one. Suspension is the app's
 * dunning decision (R-DUN-3): Stripe has no such status and goes on reporting the subscription
 * `past_due`, which must not walk a suspended subscription back through active to past_due.
 */
export function reportedState(current: SubscriptionState, reported: SubscriptionState): SubscriptionState {
  return current === 'suspended' && reported === 'past_due' ? 'suspended' : reported;
}

/** The inputs a Stripe report can stand for; plan and seat changes are decided after the state. */
const STATE_INPUTS = [
  'checkout_completed',
  'start_trial',
  'trial_ended_paid',
  'trial_ended_without_payment_method',
  'payment_succeeded',
  'payment_failed',
  'grace_exhausted',
  'cancel_at_period_end',
  'resume',
  'period_ended',
  'cancel_immediately',
] as const satisfies readonly SubscriptionInputType[];
type StateInput = (typeof STATE_INPUTS)[number];

/**
 * The shortest sequence of machine inputs that leads from `from` to `to` through the transition
 * table (a missed event, e.g. active seen again as canceled_pending after the cancel's own event was
 * lost, takes more than one); null when the table allows no way (e.g. active -> free).
 */
export function stateInputPath(
  from: SubscriptionState,
  to: SubscriptionState,
  usable: (input: StateInput) => boolean = () => true,
): StateInput[] | null {
  if (from === to) return [];
  const seen = new Set<SubscriptionState>([from]);
  let frontier: { state: SubscriptionState; path: StateInput[] }[] = [{ state: from, path: [] }];
  while (frontier.length > 0) {
    const next: typeof frontier = [];
    for (const { state, path } of frontier) {
      const row: Partial<Record<SubscriptionInputType, readonly SubscriptionState[]>> =
        SUBSCRIPTION_TRANSITIONS[state];
      for (const input of STATE_INPUTS.filter(usable)) {
        for (const target of row[input] ?? []) {
          if (seen.has(target)) continue;
          if (target === to) return [...path, input];
          seen.add(target);
          next.push({ state: target, path: [...path, input] });
        }
      }
    }
    frontier = next;
  }
  return null;
}

function incomplete(what: string, input: SubscriptionInputType): DomainRejection {
  return rejection('invalid_transition', `Stripe's report lacks the ${what} that '${input}' needs`, {
    input,
    missing: what,
  });
}

/** The inputs of a Stripe report: the state's path, then the plan, seat and renewal changes. */
export interface StripeReportInputs {
  /** Applied all or nothing: the state Stripe reports is reached, or nothing of it is applied. */
  readonly path: SubscriptionInput[];
  /** Each applied on its own after the path; one the machine refuses does not undo the others. */
  readonly changes: SubscriptionInput[];
}

/**
 * The machine inputs that bring `snapshot` to what Stripe reports (R-SM-2: the Stripe mapping turns an
 * event into machine inputs; the machine decides and may refuse). First the state's path, then, for a
 * live subscription, the plan and the seats Stripe bills (a Stripe change was already made and billed,
 * so the seat rule's member count is not the machine's to check here: 0), then a renewal (a later
 * period end while active). One free-tier state reported for another (an ended subscription seen
 * again) changes nothing: the app's tier is Free either way; but a subscription the app knows only as
 * not started (`free`) that Stripe reports ended was live in between, and goes through it. The path
 * uses only inputs the report can carry (no trial without a trial end). A rejection when the table allows no way
 * or the report lacks what an input carries; the caller records it and leaves the subscription for
 * reconciliation.
 */
export function inputsForStripeReport(
  snapshot: SubscriptionSnapshot,
  report: StripeSubscriptionReport,
): Result<StripeReportInputs, DomainRejection> {
  const endedUnseen = snapshot.state === 'free' && report.state !== 'free' && report.planId !== null;
  if (!isLiveState(snapshot.state) && !isLiveState(report.state) && !endedUnseen) {
    return ok({ path: [], changes: [] });
  }
  const path = stateInputPath(snapshot.state, reportedState(snapshot.state, report.state), (input) =>
    input === 'start_trial' ? report.trialEnd !== null : true,
  );
  if (path === null) {
    return err(
      rejection(
        'invalid_transition',
        `Stripe reports '${report.state}', which no transition reaches from '${snapshot.state}'`,
        { from: snapshot.state, to: report.state },
      ),
    );
  }
  const inputs: SubscriptionInput[] = [];
  const changes: SubscriptionInput[] = [];
  for (const type of path) {
    switch (type) {
      case 'checkout_completed':
      case 'start_trial': {
        if (report.planId === null || report.interval === null) return err(incomplete('plan', type));
        if (type === 'start_trial') {
          if (!report.trialEnd) return err(incomplete('trial end', type));
          inputs.push({ type, planId: report.planId, interval: report.interval, trialEnd: report.trialEnd });
        } else {
          if (!report.currentPeriodEnd) return err(incomplete('period end', type));
          inputs.push({
            type,
            planId: report.planId,
            interval: report.interval,
            seats: report.seats,
            currentPeriodEnd: report.currentPeriodEnd,
          });
        }
        break;
      }
      case 'trial_ended_paid':
        if (!report.currentPeriodEnd) return err(incomplete('period end', type));
        inputs.push({ type, currentPeriodEnd: report.currentPeriodEnd });
        break;
      case 'payment_succeeded':
        inputs.push(report.currentPeriodEnd ? { type, currentPeriodEnd: report.currentPeriodEnd } : { type });
        break;
      case 'trial_ended_without_payment_method':
      case 'payment_failed':
      case 'grace_exhausted':
      case 'cancel_at_period_end':
      case 'resume':
      case 'period_ended':
      case 'cancel_immediately':
        inputs.push({ type });
    }
  }
  if (!isLiveState(report.state) || report.planId === null || report.interval === null) {
    return ok({ path: inputs, changes });
  }
  const pending = snapshot.pendingPlanChange;
  const samePlan = snapshot.planId === report.planId && snapshot.interval === report.interval;
  const alreadyScheduled = pending?.planId === report.planId && pending.interval === report.interval;
  // A plan entered by this very path (checkout, trial) already carries the reported plan and seats.
  const entered = path.some((t) => t === 'checkout_completed' || t === 'start_trial');
  // Stripe billing the current plan again while a downgrade is scheduled: the downgrade was withdrawn.
  const withdrawn = samePlan && pending !== undefined;
  // A new interval restarted the billing cycle: the change carries the new period end.
  const cycleRestarted = snapshot.interval !== null && snapshot.interval !== report.interval;
  if (!entered && ((!samePlan && !alreadyScheduled) || withdrawn)) {
    changes.push({
      type: 'change_plan',
      planId: report.planId,
      interval: report.interval,
      memberCount: 0,
      ...(cycleRestarted && report.currentPeriodEnd ? { currentPeriodEnd: report.currentPeriodEnd } : {}),
    });
  }
  if (!entered && snapshot.seats !== report.seats) {
    changes.push({ type: 'change_seats', seats: report.seats, memberCount: 0 });
  }
  if (
    !(cycleRestarted && !entered) &&
    report.state === 'active' &&
    snapshot.state === 'active' &&
    report.currentPeriodEnd &&
    snapshot.currentPeriodEnd &&
    report.currentPeriodEnd.getTime() > snapshot.currentPeriodEnd.getTime()
  ) {
    changes.push({ type: 'payment_succeeded', currentPeriodEnd: report.currentPeriodEnd });
  }
  return ok({ path: inputs, changes });
}
