/**
 * The renewal / trial / dunning timeline: from a snapshot of the subscriptions and invoices on a
 * clock, the next thing that is due, in clock order. Advancing a test clock repeatedly asks for the
 * next action at or before the target time, moves the clock there, runs it, and asks again, so every
 * event is emitted at the clock time when it would have happened.
 */

export const TRIAL_WILL_END_LEAD_SECONDS = 3 * 86_400;
/** A renewal invoice is finalized (and charged) about an hour after it is created. */
export const RENEWAL_FINALIZE_DELAY_SECONDS = 3_600;
/** An `incomplete` subscription whose first invoice is not paid expires after 23 hours. */
export const INCOMPLETE_EXPIRY_SECONDS = 23 * 3_600;
/** `invoice.upcoming` is sent this long before a renewal (Stripe's "upcoming renewal events" setting). */
export const UPCOMING_LEAD_SECONDS = 7 * 86_400;

export type SubscriptionStatus =
  'incomplete' | 'incomplete_expired' | 'trialing' | 'active' | 'past_due' | 'canceled' | 'unpaid' | 'paused';

export interface SubscriptionTimelineView {
  readonly id: string;
  readonly status: SubscriptionStatus;
  readonly created: number;
  readonly trialEnd: number | null;
  /** True once `customer.subscription.trial_will_end` has been emitted for the current trial. */
  readonly trialWillEndSent: boolean;
  readonly currentPeriodStart: number;
  readonly currentPeriodEnd: number;
  /** The period end for which `invoice.upcoming` was already sent, if any. */
  readonly upcomingSentFor: number | null;
  readonly cancelAt: number | null;
  readonly cancelAtPeriodEnd: boolean;
  /** `pause_collection.resumes_at`. */
  readonly pauseCollectionResumesAt: number | null;
}

export interface InvoiceTimelineView {
  readonly id: string;
  readonly status: 'draft' | 'open' | 'paid' | 'void' | 'uncollectible';
  /** When a draft with auto_advance will be finalized (`automatically_finalizes_at`). */
  readonly finalizesAt: number | null;
  /** `next_payment_attempt` of an open invoice being collected automatically. */
  readonly nextPaymentAttempt: number | null;
}

export type TimelineAction =
  | { readonly kind: 'invoice_finalize'; readonly at: number; readonly invoiceId: string }
  | { readonly kind: 'invoice_attempt'; readonly at: number; readonly invoiceId: string }
  | { readonly kind: 'trial_will_end'; readonly at: number; readonly subscriptionId: string }
  | { readonly kind: 'invoice_upcoming'; readonly at: number; readonly subscriptionId: string }
  | { readonly kind: 'incomplete_expire'; readonly at: number; readonly subscriptionId: string }
  | { readonly kind: 'cancel_at'; readonly at: number; readonly subscriptionId: string }
  | { readonly kind: 'trial_end'; readonly at: number; readonly subscriptionId: string }
  | { readonly kind: 'period_end'; readonly at: number; readonly subscriptionId: string }
  | { readonly kind: 'pause_collection_resume'; readonly at: number; readonly subscriptionId: string };

export type TimelineActionKind = TimelineAction['kind'];

/** Tie-break at equal times: work already under way first, then notices, then cut-overs. */
export const ACTION_PRIORITY: Readonly<Record<TimelineActionKind, number>> = {
  invoice_finalize: 0,
  invoice_attempt: 1,
  trial_will_end: 2,
  invoice_upcoming: 2,
  incomplete_expire: 3,
  pause_collection_resume: 4,
  cancel_at: 5,
  trial_end: 6,
  period_end: 7,
};

const LIVE: ReadonlySet<SubscriptionStatus> = new Set(['trialing', 'active', 'past_due', 'unpaid']);

/** All actions that are pending for one subscription, in no particular order. */
export function subscriptionActions(sub: SubscriptionTimelineView): TimelineAction[] {
  const actions: TimelineAction[] = [];
  const subscriptionId = sub.id;
  if (sub.status === 'incomplete') {
    actions.push({ kind: 'incomplete_expire', at: sub.created + INCOMPLETE_EXPIRY_SECONDS, subscriptionId });
    return actions;
  }
  if (sub.status === 'paused') {
    if (sub.cancelAt !== null) actions.push({ kind: 'cancel_at', at: sub.cancelAt, subscriptionId });
    return actions;
  }
  if (!LIVE.has(sub.status)) return actions;
  if (sub.cancelAt !== null) actions.push({ kind: 'cancel_at', at: sub.cancelAt, subscriptionId });
  if (sub.pauseCollectionResumesAt !== null) {
    actions.push({ kind: 'pause_collection_resume', at: sub.pauseCollectionResumesAt, subscriptionId });
  }
  if (sub.status === 'trialing' && sub.trialEnd !== null) {
    if (!sub.trialWillEndSent) {
      actions.push({
        kind: 'trial_will_end',
        at: Math.max(sub.created, sub.trialEnd - TRIAL_WILL_END_LEAD_SECONDS),
        subscriptionId,
      });
    }
    actions.push({ kind: 'trial_end', at: sub.trialEnd, subscriptionId });
    return actions;
  }
  const upcomingAt = sub.currentPeriodEnd - UPCOMING_LEAD_SECONDS;
  if (
    sub.upcomingSentFor !== sub.currentPeriodEnd &&
    upcomingAt > sub.currentPeriodStart &&
    !sub.cancelAtPeriodEnd &&
    (sub.cancelAt === null || sub.cancelAt > sub.currentPeriodEnd)
  ) {
    actions.push({ kind: 'invoice_upcoming', at: upcomingAt, subscriptionId });
  }
  actions.push({ kind: 'period_end', at: sub.currentPeriodEnd, subscriptionId });
  return actions;
}

export function invoiceActions(invoice: InvoiceTimelineView): TimelineAction[] {
  if (invoice.status === 'draft' && invoice.finalizesAt !== null) {
    return [{ kind: 'invoice_finalize', at: invoice.finalizesAt, invoiceId: invoice.id }];
  }
  if (invoice.status === 'open' && invoice.nextPaymentAttempt !== null) {
    return [{ kind: 'invoice_attempt', at: invoice.nextPaymentAttempt, invoiceId: invoice.id }];
  }
  return [];
}

function targetId(action: TimelineAction): string {
  return 'invoiceId' in action ? action.invoiceId : action.subscriptionId;
}

export function compareActions(a: TimelineAction, b: TimelineAction): number {
  if (a.at !== b.at) return a.at - b.at;
  const p = ACTION_PRIORITY[a.kind] - ACTION_PRIORITY[b.kind];
  if (p !== 0) return p;
  const ia = targetId(a);
  const ib = targetId(b);
  return ia < ib ? -1 : ia > ib ? 1 : 0;
}

/** The earliest action due at or before `until`, or null when nothing is due. */
export function nextAction(
  subscriptions: Iterable<SubscriptionTimelineView>,
  invoices: Iterable<InvoiceTimelineView>,
  until: number,
): TimelineAction | null {
  let best: TimelineAction | null = null;
  const consider = (action: TimelineAction): void => {
    if (action.at > until) return;
    if (best === null || compareActions(action, best) < 0) best = action;
  };
  for (const sub of subscriptions) subscriptionActions(sub).forEach(consider);
  for (const invoice of invoices) invoiceActions(invoice).forEach(consider);
  return best;
}
