import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type Stripe from 'stripe';
import { runOutsideRequest } from '../../core/events.js';
import type { Account } from '../../core/state.js';
import type { TestEmulator } from '../../core/test-kit.js';
import {
  DAY,
  HOUR,
  T0,
  allEvents,
  customerOnClock,
  makeWorld,
  setDefaultCard,
  startKit,
  type World,
} from '../testing.js';
import { nextAction } from '../timeline.js';
import { advanceClock, runAction, subscriptionsOnClock, type AdvanceStats } from './clock.js';
import { timelineView } from './subscriptions.js';

let kit: TestEmulator;
beforeAll(async () => {
  kit = await startKit();
});
afterAll(async () => {
  await kit.close();
});

/** The advance as it was before the heap: every action looks at every object of the clock again. */
function rescanAdvance(account: Account, clock: Stripe.TestHelpers.TestClock, target: number): void {
  runOutsideRequest(() => {
    for (;;) {
      const subs = subscriptionsOnClock(account, clock.id).map((s) => timelineView(account, s));
      const invoices = [...account.invoices.values()]
        .filter((i) => (typeof i.test_clock === 'string' ? i.test_clock : i.test_clock?.id) === clock.id)
        .map((invoice) => ({
          id: invoice.id,
          status: (invoice.status ?? 'draft') as 'draft' | 'open' | 'paid' | 'void' | 'uncollectible',
          finalizesAt: invoice.auto_advance === false ? null : invoice.automatically_finalizes_at,
          nextPaymentAttempt:
            invoice.collection_method === 'charge_automatically' ? invoice.next_payment_attempt : null,
        }));
      const action = nextAction(subs, invoices, target);
      if (!action) break;
      clock.frozen_time = Math.max(clock.frozen_time, action.at);
      runAction(account, action);
    }
    clock.frozen_time = target;
  });
}

/** Customers on the clock with renewals that succeed, fail (Stripe retries), trials, cancellations. */
async function populate(w: World): Promise<void> {
  for (let i = 0; i < 4; i++) {
    const visa = await customerOnClock(w, 'pm_card_visa');
    await w.stripe.subscriptions.create({
      customer: visa.id,
      items: [{ price: i % 2 ? w.basic.id : w.pro.id }],
    });
    const failing = await customerOnClock(w, 'pm_card_visa');
    await w.stripe.subscriptions.create({ customer: failing.id, items: [{ price: w.pro.id }] });
    await setDefaultCard(w, failing.id, 'pm_card_chargeCustomerFail');
    const trial = await customerOnClock(w, 'pm_card_visa');
    await w.stripe.subscriptions.create({
      customer: trial.id,
      items: [{ price: w.basic.id }],
      trial_end: T0 + (5 + i) * DAY,
    });
    const leaving = await customerOnClock(w, 'pm_card_visa');
    const sub = await w.stripe.subscriptions.create({ customer: leaving.id, items: [{ price: w.pro.id }] });
    await w.stripe.subscriptions.update(
      sub.id,
      i % 2 ? { cancel_at_period_end: true } : { cancel_at: T0 + (10 + i) * DAY },
    );
  }
}

/** An account's events without ids (two accounts' ids differ): type, clock time, object kind and state. */
function shapeOf(events: Stripe.Event[]): string[] {
  return events.map((e) => {
    const o = e.data.object as {
      object?: string;
      status?: string;
      amount_due?: number;
      attempt_count?: number;
    };
    return [e.type, e.created, o.object, o.status ?? '', o.amount_due ?? '', o.attempt_count ?? ''].join(' ');
  });
}

describe('test clock advance', () => {
  it('runs the same actions at the same clock times as a rescan of every object per action', async () => {
    const indexed = await makeWorld(kit);
    const reference = await makeWorld(kit);
    await populate(indexed);
    await populate(reference);
    const account = kit.emulator.state.account(reference.key);
    const referenceClock = account.test_clocks.get(reference.clock.id);
    if (!referenceClock) throw new Error('no clock');

    for (const target of [T0 + 20 * DAY, T0 + 40 * DAY, T0 + 62 * DAY + HOUR]) {
      await indexed.stripe.testHelpers.testClocks.advance(indexed.clock.id, { frozen_time: target });
      rescanAdvance(account, referenceClock, target);
    }
    // The catalogue's events carry the wall clock's time, not the test clock's: the two worlds' catalogues
    // may be made a second apart.
    const onClock = (line: string) => !/^(test_helpers|product|price)\./.test(line);
    const ours = shapeOf(await allEvents(indexed)).filter(onClock);
    const theirs = shapeOf(await allEvents(reference)).filter(onClock);
    expect(ours.length).toBeGreaterThan(150);
    // The same events at the same clock times (at one time, objects run in id order, and the two
    // accounts' ids differ), and in clock order.
    expect([...ours].sort()).toEqual([...theirs].sort());
    const times = ours.map((line) => Number(line.split(' ')[1]));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    // Renewals failed and were retried on the clock, trials converted, cancellations took effect.
    expect(ours.some((l) => l.startsWith('invoice.payment_failed'))).toBe(true);
    expect(ours.some((l) => l.startsWith('customer.subscription.deleted'))).toBe(true);
    expect(ours.some((l) => l.startsWith('customer.subscription.trial_will_end'))).toBe(true);
  });

  it('looks at each object again only when an action changed it: work linear in the objects on the clock', async () => {
    const w = await makeWorld(kit);
    const account = kit.emulator.state.account(w.key);
    const n = 120;
    for (let i = 0; i < n; i++) {
      const customer = await w.stripe.customers.create({ test_clock: w.clock.id });
      await setDefaultCard(w, customer.id, i % 3 ? 'pm_card_visa' : 'pm_card_chargeCustomerFail');
      await w.stripe.subscriptions.create({
        customer: customer.id,
        items: [{ price: w.pro.id }],
        payment_behavior: 'allow_incomplete',
      });
    }
    const clock = account.test_clocks.get(w.clock.id);
    if (!clock) throw new Error('no clock');
    const objects = n + [...account.invoices.values()].length;
    const stats: AdvanceStats = { actions: 0, evaluations: 0 };
    advanceClock(account, clock, T0 + 29 * DAY + 2 * HOUR, stats);
    expect(clock.frozen_time).toBe(T0 + 29 * DAY + 2 * HOUR);
    // Every subscription ran its actions (the upcoming notice, the renewal, its finalization and charge)...
    expect(stats.actions).toBeGreaterThanOrEqual(2 * n);
    // ...and each action made a few objects be looked at again (its target, its subscription or invoice,
    // the new invoice), never every object of the clock (a rescan: actions x objects, here ~100 times more).
    expect(stats.evaluations).toBeLessThanOrEqual(objects + 4 * stats.actions);
  });
});
