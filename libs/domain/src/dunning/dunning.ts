import { DomainInvariantError } from '../kernel/errors.js';
import { err, ok, type Result } from '../kernel/result.js';

const DAY_MS = 86_400_000;

/** Dunning email templates (R-NOT-2). */
export type DunningEmailTemplate =
  'payment_failed_1' | 'payment_failed_2' | 'payment_failed_3' | 'account_suspended';

/** One thing a dunning step does. */
export type DunningAction =
  | { readonly kind: 'retry_payment' }
  | { readonly kind: 'send_email'; readonly template: DunningEmailTemplate }
  | { readonly kind: 'suspend' };

/** A step runs once, `dayOffset` whole days (24 h) after the failed invoice. */
export interface DunningStep {
  readonly id: string;
  readonly dayOffset: number;
  readonly actions: readonly DunningAction[];
}

/** The dunning schedule as data (R-DUN-5: configuration, not code). */
export interface DunningPolicy {
  readonly steps: readonly DunningStep[];
}

/** Default R-DUN schedule: day 0 email, day 3 and 5 retry + email, day 7 suspend + email. */
export const DEFAULT_DUNNING_POLICY: DunningPolicy = {
  steps: [
    { id: 'day_0', dayOffset: 0, actions: [{ kind: 'send_email', template: 'payment_failed_1' }] },
    {
      id: 'day_3',
      dayOffset: 3,
      actions: [{ kind: 'retry_payment' }, { kind: 'send_email', template: 'payment_failed_2' }],
    },
    {
      id: 'day_5',
      dayOffset: 5,
      actions: [{ kind: 'retry_payment' }, { kind: 'send_email', template: 'payment_failed_3' }],
    },
    {
      id: 'day_7',
      dayOffset: 7,
      actions: [{ kind: 'suspend' }, { kind: 'send_email', template: 'account_suspended' }],
    },
  ],
};

/** What can be wrong with a dunning policy. */
export type DunningPolicyIssueCode =
  | 'no_steps'
  | 'duplicate_step_id'
  | 'invalid_day_offset'
  | 'steps_not_ascending'
  | 'empty_actions'
  | 'unknown_action'
  | 'suspend_not_last'
  | 'no_suspend_step';

/** One problem found by validateDunningPolicy. */
export interface DunningPolicyIssue {
  readonly code: DunningPolicyIssueCode;
  readonly message: string;
  readonly stepId?: string;
}

const TEMPLATES: readonly string[] = [
  'payment_failed_1',
  'payment_failed_2',
  'payment_failed_3',
  'account_suspended',
];

function isKnownAction(action: DunningAction): boolean {
  switch (action.kind) {
    case 'retry_payment':
    case 'suspend':
      return true;
    case 'send_email':
      return TEMPLATES.includes(action.template);
    default:
      return false;
  }
}

/**
 * Checks a policy: at least one step, unique ids, integer day offsets >= 0 strictly ascending,
 * non-empty known actions, and exactly one suspend, in the last step.
 */
export function validateDunningPolicy(policy: DunningPolicy): Result<DunningPolicy, DunningPolicyIssue[]> {
  const issues: DunningPolicyIssue[] = [];
  const add = (code: DunningPolicyIssueCode, message: string, stepId?: string): void => {
    issues.push(stepId === undefined ? { code, message } : { code, message, stepId });
  };
  if (policy.steps.length === 0) add('no_steps', 'the policy has no steps');
  const ids = new Set<string>();
  let previous = -1;
  policy.steps.forEach((step, index) => {
    if (ids.has(step.id)) add('duplicate_step_id', `step id '${step.id}' is used twice`, step.id);
    ids.add(step.id);
    if (!Number.isSafeInteger(step.dayOffset) || step.dayOffset < 0) {
      add('invalid_day_offset', `step '${step.id}' needs a whole, non-negative day offset`, step.id);
    } else if (step.dayOffset <= previous) {
      add('steps_not_ascending', `step '${step.id}' must come strictly after the previous step`, step.id);
    }
    previous = Math.max(previous, Number.isSafeInteger(step.dayOffset) ? step.dayOffset : previous);
    if (step.actions.length === 0) add('empty_actions', `step '${step.id}' does nothing`, step.id);
    if (!step.actions.every(isKnownAction))
      add('unknown_action', `step '${step.id}' has an unknown action`, step.id);
    if (step.actions.some((a) => a.kind === 'suspend') && index !== policy.steps.length - 1) {
      add('suspend_not_last', `step '${step.id}' suspends but is not the last step`, step.id);
    }
  });
  if (policy.steps.length > 0 && !policy.steps.some((s) => s.actions.some((a) => a.kind === 'suspend'))) {
    add('no_suspend_step', 'the policy never suspends');
  }
  return issues.length === 0 ? ok(policy) : err(issues);
}

/** When the grace period is over: this many days after the first failure and this many failed attempts. */
export interface GracePolicy {
  readonly graceDays: number;
  readonly minFailedAttempts: number;
}

/** R-SM: 7 days and 3 attempts. */
export const DEFAULT_GRACE_POLICY: GracePolicy = { graceDays: 7, minFailedAttempts: 3 };

/** The grace policy a dunning policy implies: the suspend step's day, and 1 + the retries before it. */
export function gracePolicyOf(policy: DunningPolicy): GracePolicy {
  const suspendIndex = policy.steps.findIndex((s) => s.actions.some((a) => a.kind === 'suspend'));
  const suspendStep = policy.steps[suspendIndex];
  if (!suspendStep) throw new DomainInvariantError('the dunning policy has no suspend step');
  const retries = policy.steps
    .slice(0, suspendIndex)
    .reduce((n, s) => n + s.actions.filter((a) => a.kind === 'retry_payment').length, 0);
  return { graceDays: suspendStep.dayOffset, minFailedAttempts: 1 + retries };
}

/** True when `failedAttempts` (if known) and the days since `pastDueSince` both reach the policy. */
export function isGraceExhausted(
  input: { pastDueSince?: Date | null | undefined; failedAttempts?: number | undefined },
  now: Date,
  policy: GracePolicy = DEFAULT_GRACE_POLICY,
): boolean {
  if (!input.pastDueSince) return false;
  const daysOver = now.getTime() - input.pastDueSince.getTime() >= policy.graceDays * DAY_MS;
  const attemptsOver = input.failedAttempts === undefined || input.failedAttempts >= policy.minFailedAttempts;
  return daysOver && attemptsOver;
}

/** Status of a dunning case. */
export type DunningCaseStatus = 'open' | 'resolved' | 'suspended';

/** The durable record of one failed invoice's dunning (R-DUN-5). */
export interface DunningCase {
  readonly invoiceFailedAt: Date;
  readonly completedSteps: readonly string[];
  readonly status: DunningCaseStatus;
  readonly resolvedAt?: Date;
}

/** Opens a case for an invoice that failed at `invoiceFailedAt`. */
export function openDunningCase(invoiceFailedAt: Date): DunningCase {
  return { invoiceFailedAt, completedSteps: [], status: 'open' };
}

/** The instant a step falls due: failed-invoice time + dayOffset x 24 h (never the worker's clock drift). */
export function stepDueAt(dunningCase: DunningCase, step: DunningStep): Date {
  return new Date(dunningCase.invoiceFailedAt.getTime() + step.dayOffset * DAY_MS);
}

/**
 * The steps due at `now` that have not run, in policy order (missed steps after downtime all come
 * back, oldest first), and when the next pending step falls due (null when none is left or the case
 * is closed).
 */
export function nextDunningAction(
  policy: DunningPolicy,
  dunningCase: DunningCase,
  now: Date,
): { due: DunningStep[]; nextAt: Date | null } {
  if (dunningCase.status !== 'open') return { due: [], nextAt: null };
  const pending = policy.steps.filter((s) => !dunningCase.completedSteps.includes(s.id));
  const due = pending.filter((s) => stepDueAt(dunningCase, s).getTime() <= now.getTime());
  const later = pending.filter((s) => stepDueAt(dunningCase, s).getTime() > now.getTime());
  const first = later[0];
  return { due, nextAt: first ? stepDueAt(dunningCase, first) : null };
}

/**
 * Records that steps ran (idempotent: a step already completed is not added twice). A step that
 * suspends closes the case as `suspended`; a closed case is returned unchanged.
 */
export function completeDunningSteps(
  policy: DunningPolicy,
  dunningCase: DunningCase,
  stepIds: readonly string[],
): DunningCase {
  if (dunningCase.status !== 'open') return dunningCase;
  const known = new Set(policy.steps.map((s) => s.id));
  for (const id of stepIds) {
    if (!known.has(id)) throw new DomainInvariantError(`unknown dunning step '${id}'`, { stepId: id });
  }
  const completedSteps = [...new Set([...dunningCase.completedSteps, ...stepIds])];
  const suspends = policy.steps.some(
    (s) => stepIds.includes(s.id) && s.actions.some((a) => a.kind === 'suspend'),
  );
  return { ...dunningCase, completedSteps, status: suspends ? 'suspended' : 'open' };
}

/** A payment succeeded: the case is resolved and no further step runs (R-DUN-4). Idempotent. */
export function resolveDunningCase(dunningCase: DunningCase, now: Date): DunningCase {
  if (dunningCase.status === 'resolved') return dunningCase;
  return { ...dunningCase, status: 'resolved', resolvedAt: now };
}

/**
 * Reads a policy from its JSON text (`{"steps":[{"id":"day_0","dayOffset":0,"actions":[{"kind":
 * "send_email","template":"payment_failed_1"}]}, …]}`, the DUNNING_POLICY setting) and validates it.
 * Returns the policy, or one message per problem.
 */
export function dunningPolicyFromJson(text: string): Result<DunningPolicy, string[]> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return err([`not JSON: ${(error as Error).message}`]);
  }
  const steps = (parsed as { steps?: unknown } | null)?.steps;
  if (!Array.isArray(steps)) return err(['needs a "steps" array']);
  const shaped: DunningStep[] = [];
  for (const [index, step] of steps.entries()) {
    const s = step as { id?: unknown; dayOffset?: unknown; actions?: unknown } | null;
    if (!s || typeof s.id !== 'string' || typeof s.dayOffset !== 'number' || !Array.isArray(s.actions)) {
      return err([`step ${index}: needs a string "id", a number "dayOffset" and an "actions" array`]);
    }
    const actions = s.actions as unknown[];
    if (!actions.every((a) => typeof (a as { kind?: unknown } | null)?.kind === 'string')) {
      return err([`step ${index}: every action needs a "kind"`]);
    }
    shaped.push({ id: s.id, dayOffset: s.dayOffset, actions: actions as DunningAction[] });
  }
  const checked = validateDunningPolicy({ steps: shaped });
  return checked.ok ? checked : err(checked.error.map((i) => i.message));
}
