/**
 * Advancing a test clock: repeatedly take the earliest due action of the subscriptions and invoices
 * on the clock (../timeline.ts), move the clock's frozen time to it, run it, and continue until the
 * target time. Events therefore carry the clock time at which each step happened.
 */
import type Stripe from 'stripe';
import { emitEvent, runOutsideRequest } from '../../core/events.js';
import type { Account } from '../../core/state.js';
import { invalidRequest } from '../../http/errors.js';
import { type Recurrence, boundary } from '../calendar.js';
import { type InvoiceTimelineView, type TimelineAction, nextAction } from '../timeline.js';
import { autoFinalize, autoRetry } from './invoicing.js';
import {
  announceUpcoming,
  cancelAtReached,
  endTrial,
  expireIncomplete,
  periodEnd,
  resumePauseCollection,
  subscriptionRecurrence,
  timelineView,
  trialWillEnd,
} from './subscriptions.js';

/** Safety net against a runaway loop (a bug, or an absurd advance). */
const MAX_ACTIONS_PER_ADVANCE = 10_000;

function onClock(clockId: string | null, value: string | { id: string } | null): boolean {
  if (!value) return clockId === null;
  return (typeof value === 'string' ? value : value.id) === clockId;
}

/** Subscriptions on a clock; `null` = those living on real time. */
export function subscriptionsOnClock(account: Account, clockId: string | null): Stripe.Subscription[] {
  return [...account.subscriptions.values()].filter((s) => onClock(clockId, s.test_clock));
}

function invoicesOnClock(account: Account, clockId: string | null): Stripe.Invoice[] {
  return [...account.invoices.values()].filter((i) => onClock(clockId, i.test_clock));
}

function invoiceView(invoice: Stripe.Invoice): InvoiceTimelineView {
  return {
    id: invoice.id,
    status: (invoice.status ?? 'draft') as InvoiceTimelineView['status'],
    finalizesAt: invoice.auto_advance === false ? null : invoice.automatically_finalizes_at,
    nextPaymentAttempt:
      invoice.collection_method === 'charge_automatically' ? invoice.next_payment_attempt : null,
  };
}

/**
 * Stripe refuses to advance more than two intervals of the shortest subscription on the clock
 * at once (NOTES.md "Test clocks").
 */
export function checkAdvanceLimit(
  account: Account,
  clock: Stripe.TestHelpers.TestClock,
  target: number,
): void {
  let limit = Infinity;
  for (const sub of subscriptionsOnClock(account, clock.id)) {
    if (sub.status === 'canceled' || sub.status === 'incomplete_expired' || sub.items.data.length === 0)
      continue;
    let r: Recurrence;
    try {
      r = subscriptionRecurrence(sub);
    } catch {
      continue;
    }
    limit = Math.min(limit, boundary(clock.frozen_time, r, 2));
  }
  if (target > limit) {
    throw invalidRequest(
      `Cannot advance the test clock more than two intervals of the shortest subscription on it; the latest allowed frozen_time is ${limit}.`,
      'frozen_time',
    );
  }
}

export function runAction(account: Account, action: TimelineAction): void {
  if (action.kind === 'invoice_finalize' || action.kind === 'invoice_attempt') {
    const invoice = account.invoices.get(action.invoiceId);
    if (!invoice) return;
    if (action.kind === 'invoice_finalize') autoFinalize(account, invoice);
    else autoRetry(account, invoice);
    return;
  }
  const sub = account.subscriptions.get(action.subscriptionId);
  if (!sub) return;
  switch (action.kind) {
    case 'trial_will_end':
      trialWillEnd(account, sub);
      return;
    case 'invoice_upcoming':
      announceUpcoming(account, sub);
      return;
    case 'trial_end':
      endTrial(account, sub);
      return;
    case 'period_end':
      periodEnd(account, sub);
      return;
    case 'cancel_at':
      cancelAtReached(account, sub);
      return;
    case 'incomplete_expire':
      expireIncomplete(account, sub);
      return;
    case 'pause_collection_resume':
      resumePauseCollection(account, sub);
      return;
  }
}

/** Runs every due action of the clock's objects up to `target`, in clock order. */
export function advanceClock(account: Account, clock: Stripe.TestHelpers.TestClock, target: number): number {
  let count = 0;
  runOutsideRequest(() => {
    for (;;) {
      const subs = subscriptionsOnClock(account, clock.id).map((s) => timelineView(account, s));
      const invoices = invoicesOnClock(account, clock.id).map(invoiceView);
      const action = nextAction(subs, invoices, target);
      if (!action) break;
      if (++count > MAX_ACTIONS_PER_ADVANCE) throw new Error('test clock: too many actions in one advance');
      clock.frozen_time = Math.max(clock.frozen_time, action.at);
      runAction(account, action);
    }
    clock.frozen_time = target;
  });
  return count;
}

/** `POST /v1/test_helpers/test_clocks/:id/advance`: advancing -> (all due work) -> ready. */
export function advance(
  account: Account,
  clock: Stripe.TestHelpers.TestClock,
  target: number,
): Stripe.TestHelpers.TestClock {
  if (clock.status === 'advancing') {
    throw invalidRequest(
      'The test clock is already advancing; wait until it is ready.',
      undefined,
      'test_clock_advancing',
    );
  }
  if (target <= clock.frozen_time) {
    throw invalidRequest(
      `The frozen_time must be after the test clock's current frozen_time (${clock.frozen_time}).`,
      'frozen_time',
    );
  }
  checkAdvanceLimit(account, clock, target);
  clock.status = 'advancing';
  clock.status_details = { advancing: { target_frozen_time: target } };
  emitEvent(account, { type: 'test_helpers.test_clock.advancing', object: clock, testClockId: clock.id });
  try {
    advanceClock(account, clock, target);
  } finally {
    clock.status = 'ready';
    clock.status_details = {};
  }
  runOutsideRequest(() =>
    emitEvent(account, { type: 'test_helpers.test_clock.ready', object: clock, testClockId: clock.id }),
  );
  return clock;
}

/**
 * Objects not on a test clock live on real time: run whatever became due (a short trial ending, a
 * retry, an incomplete subscription expiring). Called periodically and before billing requests.
 */
/** Per account: the second of the last catch-up that found nothing due, and the state it looked at. */
const settledAt = new WeakMap<
  Account,
  { now: number; events: number; subscriptions: number; invoices: number }
>();

/** Forgets that an account was caught up (an edit made without an event may have made something due). */
export function forgetCatchUp(account: Account): void {
  settledAt.delete(account);
}

export function catchUpRealTime(account: Account, now: number): number {
  if (account.subscriptions.size === 0 && account.invoices.size === 0) return 0;
  // Within one second and with no event since (every change of state emits one), nothing new is due:
  // reads paging through a large account do not walk every timeline again.
  const last = settledAt.get(account);
  if (
    last &&
    last.now === now &&
    last.events === account.events.size &&
    last.subscriptions === account.subscriptions.size &&
    last.invoices === account.invoices.size
  ) {
    return 0;
  }
  let count = 0;
  runOutsideRequest(() => {
    for (;;) {
      const subs = subscriptionsOnClock(account, null).map((s) => timelineView(account, s));
      const invoices = invoicesOnClock(account, null).map(invoiceView);
      const action = nextAction(subs, invoices, now);
      if (!action) break;
      if (++count > MAX_ACTIONS_PER_ADVANCE) throw new Error('real time: too many due actions');
      runAction(account, action);
    }
  });
  settledAt.set(account, {
    now,
    events: account.events.size,
    subscriptions: account.subscriptions.size,
    invoices: account.invoices.size,
  });
  return count;
}
