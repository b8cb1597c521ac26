/**
 * Advancing a test clock: repeatedly take the earliest due action of the subscriptions and invoices
 * on the clock (../timeline.ts), move the clock's frozen time to it, run it, and continue until the
 * target time. Events therefore carry the clock time at which each step happened. The due actions are
 * kept in a heap and only the objects an action changed are looked at again (`runDueActions`).
 */
import type Stripe from 'stripe';
import { emitEvent, runOutsideRequest } from '../../core/events.js';
import type { Account } from '../../core/state.js';
import { invalidRequest } from '../../http/errors.js';
import { type Recurrence, boundary } from '../calendar.js';
import {
  type InvoiceTimelineView,
  type TimelineAction,
  compareActions,
  invoiceActions,
  subscriptionActions,
} from '../timeline.js';
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
export function advanceClock(
  account: Account,
  clock: Stripe.TestHelpers.TestClock,
  target: number,
  stats?: AdvanceStats,
): number {
  let count = 0;
  runOutsideRequest(() => {
    count = runDueActions(
      account,
      clock.id,
      target,
      (action) => {
        clock.frozen_time = Math.max(clock.frozen_time, action.at);
      },
      stats,
    );
    clock.frozen_time = target;
  });
  return count;
}

/** What an advance did: actions run, and how many times an object's pending actions were computed. */
export interface AdvanceStats {
  actions: number;
  evaluations: number;
}

/** One pending action in the queue, valid while its object's generation is still `generation`. */
interface Queued {
  readonly action: TimelineAction;
  readonly key: string;
  readonly generation: number;
}

/** A binary min-heap of queued actions in clock order (`compareActions`). */
class ActionHeap {
  private readonly items: Queued[] = [];

  get size(): number {
    return this.items.length;
  }

  push(item: Queued): void {
    const items = this.items;
    items.push(item);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (compareActions((items[parent] as Queued).action, item.action) <= 0) break;
      items[i] = items[parent] as Queued;
      i = parent;
    }
    items[i] = item;
  }

  peek(): Queued | undefined {
    return this.items[0];
  }

  pop(): Queued | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (top === undefined || last === undefined || items.length === 0) return top;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= items.length) break;
      const right = left + 1;
      const child =
        right < items.length &&
        compareActions((items[right] as Queued).action, (items[left] as Queued).action) < 0
          ? right
          : left;
      if (compareActions((items[child] as Queued).action, last.action) >= 0) break;
      items[i] = items[child] as Queued;
      i = child;
    }
    items[i] = last;
    return top;
  }
}

/**
 * Runs the due actions of the subscriptions and invoices on a clock (`null`: those on real time) up to
 * `until`, in clock order, and returns how many ran. Each object's pending actions are queued once in a
 * heap; after an action only the objects it changed are looked at again: its target, the subscription of
 * an invoice target, and every subscription or invoice an event emitted during the action carried (every
 * change of state in the emulator emits one; a new renewal invoice emits `invoice.created`). An advance
 * therefore costs O((objects + actions) log n), not (actions x objects) as a rescan per action would
 * (`npm run bench:dunning`, docs/benchmarks.md). `beforeRun` sees each action before it runs.
 */
export function runDueActions(
  account: Account,
  clockId: string | null,
  until: number,
  beforeRun: (action: TimelineAction) => void = () => {},
  stats: AdvanceStats = { actions: 0, evaluations: 0 },
): number {
  const heap = new ActionHeap();
  const generations = new Map<string, number>();
  const enqueue = (key: string, actions: readonly TimelineAction[]): void => {
    stats.evaluations += 1;
    const generation = (generations.get(key) ?? 0) + 1;
    generations.set(key, generation);
    for (const action of actions) {
      if (action.at <= until) heap.push({ action, key, generation });
    }
  };
  const refreshSubscription = (id: string): void => {
    const sub = account.subscriptions.get(id);
    const onIt = sub !== undefined && onClock(clockId, sub.test_clock);
    enqueue(`sub:${id}`, onIt ? subscriptionActions(timelineView(account, sub)) : []);
  };
  const refreshInvoice = (id: string): void => {
    const invoice = account.invoices.get(id);
    const onIt = invoice !== undefined && onClock(clockId, invoice.test_clock);
    enqueue(`inv:${id}`, onIt ? invoiceActions(invoiceView(invoice)) : []);
  };
  for (const sub of subscriptionsOnClock(account, clockId)) refreshSubscription(sub.id);
  for (const invoice of invoicesOnClock(account, clockId)) refreshInvoice(invoice.id);

  // What the running action changed, from the events it emitted (synchronously, on this account).
  const touchedSubscriptions = new Set<string>();
  const touchedInvoices = new Set<string>();
  const listener = (source: Account, event: Stripe.Event): void => {
    if (source !== account) return;
    const object = event.data.object as { object?: unknown; id?: unknown; subscription?: unknown };
    if (typeof object.id !== 'string') return;
    if (object.object === 'subscription') touchedSubscriptions.add(object.id);
    else if (object.object === 'invoice') {
      touchedInvoices.add(object.id);
      const sub = invoiceSubscriptionId(object);
      if (sub) touchedSubscriptions.add(sub);
    }
  };
  const limit = MAX_ACTIONS_PER_ADVANCE + 20 * generations.size;
  let count = 0;
  account.listeners.add(listener);
  try {
    for (;;) {
      const next = heap.pop();
      if (!next) break;
      if (generations.get(next.key) !== next.generation) continue;
      if (++count > limit) throw new Error('test clock: too many actions in one advance');
      stats.actions += 1;
      const action = next.action;
      touchedSubscriptions.clear();
      touchedInvoices.clear();
      beforeRun(action);
      runAction(account, action);
      if ('invoiceId' in action) {
        touchedInvoices.add(action.invoiceId);
        const sub = invoiceSubscriptionId(account.invoices.get(action.invoiceId) ?? {});
        if (sub) touchedSubscriptions.add(sub);
      } else {
        touchedSubscriptions.add(action.subscriptionId);
      }
      for (const id of touchedSubscriptions) refreshSubscription(id);
      for (const id of touchedInvoices) refreshInvoice(id);
    }
  } finally {
    account.listeners.delete(listener);
  }
  return count;
}

function invoiceSubscriptionId(invoice: { subscription?: unknown; parent?: unknown }): string | null {
  const direct = invoice.subscription;
  if (typeof direct === 'string') return direct;
  if (direct && typeof direct === 'object' && typeof (direct as { id?: unknown }).id === 'string') {
    return (direct as { id: string }).id;
  }
  const parent = invoice.parent as { subscription_details?: { subscription?: unknown } } | null | undefined;
  const viaParent = parent?.subscription_details?.subscription;
  if (typeof viaParent === 'string') return viaParent;
  if (viaParent && typeof viaParent === 'object' && typeof (viaParent as { id?: unknown }).id === 'string') {
    return (viaParent as { id: string }).id;
  }
  return null;
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
    count = runDueActions(account, null, now);
  });
  settledAt.set(account, {
    now,
    events: account.events.size,
    subscriptions: account.subscriptions.size,
    invoices: account.invoices.size,
  });
  return count;
}
