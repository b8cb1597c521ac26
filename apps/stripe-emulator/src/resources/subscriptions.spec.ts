import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { expectStripeShape } from '../../test-support/stripe-shapes.js';
import Stripe from 'stripe';
import { catchUpRealTime } from '../billing/service/clock.js';
import { type TestEmulator, startWebhookReceiver } from '../core/test-kit.js';
import { realNow } from '../core/time.js';
import {
  DAY,
  HOUR,
  T0,
  type World,
  advanceTo,
  allEvents,
  at,
  customerOnClock,
  latestInvoice,
  makeWorld,
  setDefaultCard,
  startKit,
  timeline,
} from '../billing/testing.js';

let kit: TestEmulator;
beforeAll(async () => {
  kit = await startKit();
});
afterAll(async () => {
  await kit.close();
});

const FEB_28 = at('2026-02-28T12:00:00Z');
const MAR_31 = at('2026-03-31T12:00:00Z');

async function subscribe(
  w: World,
  customer: string,
  params: Partial<Stripe.SubscriptionCreateParams> = {},
): Promise<Stripe.Subscription> {
  return w.stripe.subscriptions.create({ customer, items: [{ price: w.basic.id }], ...params });
}

describe('subscription creation', () => {
  it('starts a trial with a $0 paid invoice and the period on the items', async () => {
    const w = await makeWorld(kit);
    const c = await customerOnClock(w, 'pm_card_visa');
    const sub = await subscribe(w, c.id, {
      trial_period_days: 14,
      metadata: { plan: 'basic' },
      expand: ['latest_invoice'],
    });
    expectStripeShape('Subscription', sub);
    expect(sub.status).toBe('trialing');
    expect(sub.trial_start).toBe(T0);
    expect(sub.trial_end).toBe(T0 + 14 * DAY);
    expect(sub.metadata).toEqual({ plan: 'basic' });
    expect(sub.items.data[0]).toMatchObject({
      current_period_start: T0,
      current_period_end: T0 + 14 * DAY,
      quantity: 1,
    });
    expect(sub).not.toHaveProperty('current_period_end');
    const invoice = sub.latest_invoice as Stripe.Invoice;
    expectStripeShape('Invoice', invoice);
    expect(invoice).toMatchObject({
      status: 'paid',
      amount_due: 0,
      total: 0,
      billing_reason: 'subscription_create',
      created: T0,
    });
    expect(invoice.parent?.subscription_details?.subscription).toBe(sub.id);
    expect(invoice.lines.data.map((l) => [l.amount, l.description])).toEqual([[0, 'Trial period for Team']]);
  });

  it('charges the first period at once and is active', async () => {
    const w = await makeWorld(kit);
    const c = await customerOnClock(w, 'pm_card_visa');
    const sub = await subscribe(w, c.id, { expand: ['latest_invoice.payments'] });
    expect(sub.status).toBe('active');
    expect(sub.items.data[0]).toMatchObject({ current_period_start: T0, current_period_end: FEB_28 });
    const invoice = sub.latest_invoice as Stripe.Invoice;
    expect(invoice).toMatchObject({
      status: 'paid',
      amount_due: 1000,
      amount_paid: 1000,
      amount_remaining: 0,
      attempt_count: 1,
      attempted: true,
    });
    const payment = invoice.payments?.data[0];
    expect(payment).toBeDefined();
    expectStripeShape('InvoicePayment', payment);
    expect(payment).toMatchObject({ status: 'paid', amount_paid: 1000 });
    const pi = await w.stripe.paymentIntents.retrieve(payment!.payment.payment_intent as string);
    expect(pi).toMatchObject({ status: 'succeeded', amount: 1000, customer: c.id });
  });

  it('applies the customer credit balance to the first invoice', async () => {
    const w = await makeWorld(kit);
    const c = await customerOnClock(w, 'pm_card_visa');
    await w.stripe.customers.update(c.id, { balance: -300 });
    const sub = await subscribe(w, c.id);
    const invoice = await latestInvoice(w, sub.id);
    expect(invoice).toMatchObject({
      total: 1000,
      starting_balance: -300,
      ending_balance: 0,
      amount_due: 700,
      amount_paid: 700,
    });
    const customer = (await w.stripe.customers.retrieve(c.id)) as Stripe.Customer;
    expect(customer.balance).toBe(0);
  });

  it('error_if_incomplete answers 402 and creates nothing', async () => {
    const w = await makeWorld(kit);
    const c = await customerOnClock(w, 'pm_card_chargeCustomerFail');
    await expect(subscribe(w, c.id, { payment_behavior: 'error_if_incomplete' })).rejects.toMatchObject({
      type: 'StripeCardError',
      statusCode: 402,
      code: 'card_declined',
    });
    const subs = await w.stripe.subscriptions.list({ customer: c.id, status: 'all' });
    expect(subs.data).toHaveLength(0);
    const invoices = await w.stripe.invoices.list({ customer: c.id });
    expect(invoices.data).toHaveLength(0);
  });

  it('allow_incomplete leaves it incomplete, and incomplete_expired 23 h later with the invoice voided', async () => {
    const w = await makeWorld(kit);
    const c = await customerOnClock(w, 'pm_card_chargeCustomerFail');
    const sub = await subscribe(w, c.id);
    expect(sub.status).toBe('incomplete');
    expect(await latestInvoice(w, sub.id)).toMatchObject({
      status: 'open',
      attempt_count: 1,
      next_payment_attempt: null,
    });
    await advanceTo(w, T0 + 23 * HOUR - 1);
    expect((await w.stripe.subscriptions.retrieve(sub.id)).status).toBe('incomplete');
    await advanceTo(w, T0 + 23 * HOUR);
    const expired = await w.stripe.subscriptions.retrieve(sub.id);
    expect(expired).toMatchObject({ status: 'incomplete_expired', ended_at: T0 + 23 * HOUR });
    expect((await latestInvoice(w, sub.id)).status).toBe('void');
    expect(await timeline(w, ['invoice.voided'])).toEqual([['invoice.voided', T0 + 23 * HOUR]]);
  });

  it('lists by status (default hides canceled; all shows everything), customer and price', async () => {
    const w = await makeWorld(kit);
    const c = await customerOnClock(w, 'pm_card_visa');
    const a = await subscribe(w, c.id);
    const b = await w.stripe.subscriptions.create({ customer: c.id, items: [{ price: w.pro.id }] });
    await w.stripe.subscriptions.cancel(b.id);
    expect((await w.stripe.subscriptions.list({ customer: c.id })).data.map((s) => s.id)).toEqual([a.id]);
    expect(
      (await w.stripe.subscriptions.list({ customer: c.id, status: 'all' })).data.map((s) => s.id).sort(),
    ).toEqual([a.id, b.id].sort());
    expect((await w.stripe.subscriptions.list({ status: 'canceled' })).data.map((s) => s.id)).toEqual([b.id]);
    expect(
      (await w.stripe.subscriptions.list({ price: w.pro.id, status: 'all' })).data.map((s) => s.id),
    ).toEqual([b.id]);
  });
});

describe('trials on a test clock', () => {
  it('trial -> active: trial_will_end 3 days before, invoice at trial end, paid an hour later', async () => {
    const w = await makeWorld(kit);
    const c = await customerOnClock(w, 'pm_card_visa');
    const sub = await subscribe(w, c.id, { trial_period_days: 14 });
    const end = T0 + 14 * DAY;
    const clock = await advanceTo(w, end + 2 * HOUR);
    expect(clock).toMatchObject({ status: 'ready', frozen_time: end + 2 * HOUR });
    const after = await w.stripe.subscriptions.retrieve(sub.id);
    expect(after.status).toBe('active');
    expect(after.items.data[0]).toMatchObject({
      current_period_start: end,
      current_period_end: end + 28 * DAY,
    });
    const invoice = await latestInvoice(w, sub.id);
    expect(invoice).toMatchObject({
      status: 'paid',
      billing_reason: 'subscription_cycle',
      amount_paid: 1000,
      created: end,
    });
    expect(invoice.status_transitions.finalized_at).toBe(end + HOUR);
    const events = await timeline(
      w,
      [
        'test_helpers.test_clock.advancing',
        'customer.subscription.trial_will_end',
        'customer.subscription.updated',
        'invoice.created',
        'invoice.finalized',
        'payment_intent.succeeded',
        'invoice.paid',
        'invoice.payment_succeeded',
        'test_helpers.test_clock.ready',
      ],
      T0,
    );
    expect(events).toEqual([
      ['customer.subscription.trial_will_end', end - 3 * DAY],
      ['customer.subscription.updated', end],
      ['invoice.created', end],
      ['invoice.finalized', end + HOUR],
      ['payment_intent.succeeded', end + HOUR],
      ['invoice.paid', end + HOUR],
      ['invoice.payment_succeeded', end + HOUR],
      ['test_helpers.test_clock.ready', end + 2 * HOUR],
    ]);
    const updated = (await allEvents(w)).find(
      (e) => e.type === 'customer.subscription.updated' && e.created === end,
    );
    expect(updated?.data.previous_attributes).toMatchObject({ status: 'trialing' });
    expect(updated?.request).toEqual({ id: null, idempotency_key: null });
  });

  it('sends trial_will_end at once for a trial shorter than three days', async () => {
    const w = await makeWorld(kit);
    const c = await customerOnClock(w, 'pm_card_visa');
    await subscribe(w, c.id, { trial_end: T0 + 2 * DAY });
    expect(
      await timeline(w, ['customer.subscription.created', 'customer.subscription.trial_will_end']),
    ).toEqual([
      ['customer.subscription.created', T0],
      ['customer.subscription.trial_will_end', T0],
    ]);
  });

  it('trial without a payment method and missing_payment_method=cancel -> canceled at trial end', async () => {
    const w = await makeWorld(kit);
    const c = await customerOnClock(w);
    const sub = await subscribe(w, c.id, {
      trial_period_days: 7,
      trial_settings: { end_behavior: { missing_payment_method: 'cancel' } },
    });
    await advanceTo(w, T0 + 8 * DAY);
    const after = await w.stripe.subscriptions.retrieve(sub.id);
    expect(after).toMatchObject({ status: 'canceled', ended_at: T0 + 7 * DAY, canceled_at: T0 + 7 * DAY });
    expect(await timeline(w, ['customer.subscription.deleted', 'invoice.created'], T0)).toEqual([
      ['customer.subscription.deleted', T0 + 7 * DAY],
    ]);
  });

  it('trial without a payment method and missing_payment_method=pause -> paused', async () => {
    const w = await makeWorld(kit);
    const c = await customerOnClock(w);
    const sub = await subscribe(w, c.id, {
      trial_period_days: 7,
      trial_settings: { end_behavior: { missing_payment_method: 'pause' } },
    });
    await advanceTo(w, T0 + 8 * DAY);
    const after = await w.stripe.subscriptions.retrieve(sub.id);
    expectStripeShape('Subscription', after);
    expect(after.status).toBe('paused');
    expect(after.status_details?.paused.subscription.type).toBe('trial_end_without_payment_method');
    expect(
      await timeline(
        w,
        ['customer.subscription.updated', 'customer.subscription.paused', 'invoice.created'],
        T0,
      ),
    ).toEqual([
      ['customer.subscription.updated', T0 + 7 * DAY],
      ['customer.subscription.paused', T0 + 7 * DAY],
    ]);
    // Resuming invoices a new period at once.
    await setDefaultCard(w, c.id, 'pm_card_visa');
    const resumed = await w.stripe.subscriptions.resume(sub.id, { billing_cycle_anchor: { type: 'now' } });
    expect(resumed.status).toBe('active');
    expect(resumed.items.data[0]).toMatchObject({ current_period_start: T0 + 8 * DAY });
    expect(await latestInvoice(w, sub.id)).toMatchObject({ status: 'paid', amount_paid: 1000 });
    expect((await timeline(w, ['customer.subscription.resumed'])).map(([, t]) => t)).toEqual([T0 + 8 * DAY]);
  });
});

describe('renewals on a test clock', () => {
  it('renews and pays, with the Jan 31 anchor clamped to Feb 28 and back to Mar 31', async () => {
    const w = await makeWorld(kit);
    const c = await customerOnClock(w, 'pm_card_visa');
    const sub = await subscribe(w, c.id);
    await advanceTo(w, FEB_28 + 2 * HOUR);
    const after = await w.stripe.subscriptions.retrieve(sub.id);
    expect(after.status).toBe('active');
    expect(after.items.data[0]).toMatchObject({ current_period_start: FEB_28, current_period_end: MAR_31 });
    const invoice = await latestInvoice(w, sub.id);
    expectStripeShape('Invoice', invoice);
    expect(invoice).toMatchObject({
      status: 'paid',
      billing_reason: 'subscription_cycle',
      amount_paid: 1000,
      created: FEB_28,
    });
    expect(invoice.lines.data[0]?.period).toEqual({ start: FEB_28, end: MAR_31 });
    expect(invoice.status_transitions.paid_at).toBe(FEB_28 + HOUR);
    const invoices = await w.stripe.invoices.list({ subscription: sub.id });
    expect(invoices.data.map((i) => i.billing_reason)).toEqual(['subscription_cycle', 'subscription_create']);
    const upcoming = (await allEvents(w)).filter((e) => e.type === 'invoice.upcoming');
    expect(upcoming.map((e) => e.created)).toEqual([FEB_28 - 7 * DAY]);
    const preview = upcoming[0]?.data.object as Stripe.Invoice;
    expectStripeShape('Invoice', preview);
    expect(preview).toMatchObject({ amount_due: 1000, next_payment_attempt: FEB_28 + HOUR });
  });

  it.each([
    ['unpaid', 'unpaid'],
    ['canceled', 'canceled'],
    ['past_due', 'past_due'],
  ] as const)(
    'a failing renewal goes past_due, retries on days 3 and 5, then ends %s',
    async (finalSetting, finalStatus) => {
      const w = await makeWorld(kit);
      const settings = await fetch(`${kit.emulator.url}/_emulator/billing/settings`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ api_key: w.key, final_status: finalSetting }).toString(),
      });
      expect(await settings.json()).toMatchObject({ retry_days: [0, 3, 5], final_status: finalSetting });
      const c = await customerOnClock(w, 'pm_card_visa');
      const sub = await subscribe(w, c.id);
      await setDefaultCard(w, c.id, 'pm_card_chargeCustomerFail');
      const first = FEB_28 + HOUR;
      await advanceTo(w, first + 60);
      expect((await w.stripe.subscriptions.retrieve(sub.id)).status).toBe('past_due');
      const renewal = await latestInvoice(w, sub.id);
      expect(renewal).toMatchObject({
        status: 'open',
        attempt_count: 1,
        attempted: true,
        next_payment_attempt: first + 3 * DAY,
        amount_remaining: 1000,
      });
      await advanceTo(w, first + 3 * DAY);
      expect(await latestInvoice(w, sub.id)).toMatchObject({
        attempt_count: 2,
        next_payment_attempt: first + 5 * DAY,
      });
      await advanceTo(w, first + 5 * DAY);
      const last = await w.stripe.invoices.retrieve(renewal.id);
      expect(last).toMatchObject({ status: 'open', attempt_count: 3, next_payment_attempt: null });
      const ended = await w.stripe.subscriptions.retrieve(sub.id);
      expectStripeShape('Subscription', ended);
      expect(ended.status).toBe(finalStatus);
      const failures = await timeline(w, ['invoice.payment_failed']);
      expect(failures).toEqual([
        ['invoice.payment_failed', first],
        ['invoice.payment_failed', first + 3 * DAY],
        ['invoice.payment_failed', first + 5 * DAY],
      ]);
      const statusChanges = (await allEvents(w))
        .filter((e) => e.type.startsWith('customer.subscription.') && e.created > T0)
        .map((e) => [e.type, (e.data.object as Stripe.Subscription).status, e.created]);
      const expected: unknown[] = [['customer.subscription.updated', 'past_due', first]];
      if (finalStatus === 'unpaid')
        expected.push(['customer.subscription.updated', 'unpaid', first + 5 * DAY]);
      if (finalStatus === 'canceled')
        expected.push(['customer.subscription.deleted', 'canceled', first + 5 * DAY]);
      // The renewal itself updates the subscription (new period) at Feb 28.
      expect(statusChanges).toEqual([['customer.subscription.updated', 'active', FEB_28], ...expected]);
      expect(ended.cancellation_details?.reason ?? null).toBe(
        finalStatus === 'canceled' ? 'payment_failed' : null,
      );
    },
  );

  it('pays the open renewal with another card and becomes active again', async () => {
    const w = await makeWorld(kit);
    const c = await customerOnClock(w, 'pm_card_visa');
    const sub = await subscribe(w, c.id);
    await setDefaultCard(w, c.id, 'pm_card_chargeCustomerFail');
    await advanceTo(w, FEB_28 + 2 * HOUR);
    const open = await latestInvoice(w, sub.id);
    await expect(w.stripe.invoices.pay(open.id)).rejects.toMatchObject({
      type: 'StripeCardError',
      code: 'card_declined',
    });
    const pm = await w.stripe.paymentMethods.attach('pm_card_mastercard', { customer: c.id });
    const paid = await w.stripe.invoices.pay(open.id, { payment_method: pm.id });
    expect(paid).toMatchObject({
      status: 'paid',
      attempt_count: 3,
      amount_paid: 1000,
      next_payment_attempt: null,
    });
    expect((await w.stripe.subscriptions.retrieve(sub.id)).status).toBe('active');
  });
});

describe('changes with prorations', () => {
  const MID = T0 + 10 * DAY; // 18 of 28 days remain
  // 1000 * 18/28 = 642.857 -> 643; 2000 * 18/28 = 1285.714 -> 1286
  it('upgrade with always_invoice charges exactly what createPreview showed', async () => {
    const w = await makeWorld(kit);
    const c = await customerOnClock(w, 'pm_card_visa');
    const sub = await subscribe(w, c.id);
    await advanceTo(w, MID);
    const item = sub.items.data[0]!;
    const change = {
      items: [{ id: item.id, price: w.pro.id }],
      proration_behavior: 'always_invoice' as const,
      proration_date: MID,
    };
    const preview = await w.stripe.invoices.createPreview({
      subscription: sub.id,
      subscription_details: change,
    });
    expectStripeShape('Invoice', preview);
    expect(preview.lines.data.map((l) => l.amount)).toEqual([-643, 1286]);
    expect(preview.lines.data.every((l) => l.parent?.subscription_item_details?.proration === true)).toBe(
      true,
    );
    expect(preview.amount_due).toBe(643);
    const updated = await w.stripe.subscriptions.update(sub.id, {
      ...change,
      expand: ['latest_invoice.payments.data.payment.payment_intent'],
    });
    expect(updated.items.data[0]).toMatchObject({ id: item.id, price: { id: w.pro.id } });
    const invoice = updated.latest_invoice as Stripe.Invoice;
    expect(invoice).toMatchObject({
      status: 'paid',
      billing_reason: 'subscription_update',
      amount_paid: preview.amount_due,
      total: preview.total,
    });
    expect(invoice.lines.data.map((l) => l.amount)).toEqual(preview.lines.data.map((l) => l.amount));
    expect(invoice.parent?.subscription_details?.subscription_proration_date).toBe(MID);
    const pi = invoice.payments?.data[0]?.payment.payment_intent as Stripe.PaymentIntent;
    expect(pi).toMatchObject({ object: 'payment_intent', status: 'succeeded', amount: 643 });
    const updatedEvent = (await allEvents(w)).find(
      (e) => e.type === 'customer.subscription.updated' && e.created === MID,
    );
    expect(updatedEvent?.data.previous_attributes).toHaveProperty('items');
  });

  it('downgrade with create_prorations credits the next invoice', async () => {
    const w = await makeWorld(kit);
    const c = await customerOnClock(w, 'pm_card_visa');
    const sub = await w.stripe.subscriptions.create({ customer: c.id, items: [{ price: w.pro.id }] });
    await advanceTo(w, MID);
    const item = sub.items.data[0]!;
    const updated = await w.stripe.subscriptions.update(sub.id, {
      items: [{ id: item.id, price: w.basic.id }],
      proration_date: MID,
    });
    expect(updated.latest_invoice).toBe(sub.latest_invoice);
    const pending = await w.stripe.invoiceItems.list({ customer: c.id, pending: true });
    pending.data.forEach((ii) => expectStripeShape('InvoiceItem', ii));
    expect(pending.data.map((ii) => ii.amount).sort((a, b) => a - b)).toEqual([-1286, 643]);
    expect(pending.data.every((ii) => ii.proration)).toBe(true);
    await advanceTo(w, FEB_28 + 2 * HOUR);
    const renewal = await latestInvoice(w, sub.id);
    expect(renewal.lines.data.map((l) => [l.amount, l.parent?.subscription_item_details?.proration])).toEqual(
      [
        [-1286, true],
        [643, true],
        [1000, false],
      ],
    );
    expect(renewal).toMatchObject({ total: 357, amount_paid: 357, status: 'paid' });
    const lines = await w.stripe.invoices.listLineItems(renewal.id, { limit: 2 });
    expect(lines.has_more).toBe(true);
    lines.data.forEach((l) => expectStripeShape('InvoiceLineItem', l));
  });

  it('a quantity change prorates and the preview shows the next invoice', async () => {
    const w = await makeWorld(kit);
    const c = await customerOnClock(w, 'pm_card_visa');
    const sub = await subscribe(w, c.id);
    const at7 = T0 + 7 * DAY; // 21 of 28 days remain: exactly 3/4
    await advanceTo(w, at7);
    const item = sub.items.data[0]!;
    const updated = await w.stripe.subscriptionItems.update(item.id, { quantity: 3, proration_date: at7 });
    expect(updated.quantity).toBe(3);
    const preview = await w.stripe.invoices.createPreview({ subscription: sub.id });
    expect(preview.lines.data.map((l) => l.amount)).toEqual([-750, 2250, 3000]);
    expect(preview.amount_due).toBe(4500);
    await advanceTo(w, FEB_28 + 2 * HOUR);
    expect(await latestInvoice(w, sub.id)).toMatchObject({ total: 4500, amount_paid: 4500 });
  });

  it('error_if_incomplete on an upgrade with a failing card answers 402 and changes nothing', async () => {
    const w = await makeWorld(kit);
    const c = await customerOnClock(w, 'pm_card_visa');
    const sub = await subscribe(w, c.id);
    await setDefaultCard(w, c.id, 'pm_card_chargeCustomerFail');
    await advanceTo(w, MID);
    const item = sub.items.data[0]!;
    await expect(
      w.stripe.subscriptions.update(sub.id, {
        items: [{ id: item.id, price: w.pro.id }],
        proration_behavior: 'always_invoice',
        payment_behavior: 'error_if_incomplete',
        metadata: { tried: 'yes' },
      }),
    ).rejects.toMatchObject({ type: 'StripeCardError', statusCode: 402 });
    const after = await w.stripe.subscriptions.retrieve(sub.id);
    expect(after).toMatchObject({ status: 'active', latest_invoice: sub.latest_invoice, metadata: {} });
    expect(after.items.data[0]?.price.id).toBe(w.basic.id);
    expect((await w.stripe.invoices.list({ subscription: sub.id })).data).toHaveLength(1);
  });

  it('pending_if_incomplete keeps the old items until the invoice is paid', async () => {
    const w = await makeWorld(kit);
    const c = await customerOnClock(w, 'pm_card_visa');
    const sub = await subscribe(w, c.id);
    await setDefaultCard(w, c.id, 'pm_card_chargeCustomerFail');
    await advanceTo(w, MID);
    const item = sub.items.data[0]!;
    const pending = await w.stripe.subscriptions.update(sub.id, {
      items: [{ id: item.id, price: w.pro.id }],
      proration_behavior: 'always_invoice',
      payment_behavior: 'pending_if_incomplete',
      proration_date: MID,
    });
    expectStripeShape('Subscription', pending);
    expect(pending.status).toBe('active');
    expect(pending.items.data[0]?.price.id).toBe(w.basic.id);
    expect(pending.pending_update?.subscription_items?.[0]?.price.id).toBe(w.pro.id);
    expect(pending.pending_update?.expires_at).toBe(MID + 23 * HOUR);
    const open = await latestInvoice(w, sub.id);
    expect(open).toMatchObject({ status: 'open', amount_remaining: 643 });
    const pm = await w.stripe.paymentMethods.attach('pm_card_visa', { customer: c.id });
    await w.stripe.invoices.pay(open.id, { payment_method: pm.id });
    const applied = await w.stripe.subscriptions.retrieve(sub.id);
    expect(applied.items.data[0]?.price.id).toBe(w.pro.id);
    expect(applied.pending_update).toBeNull();
  });

  it('rejects a proration date outside the current period', async () => {
    const w = await makeWorld(kit);
    const c = await customerOnClock(w, 'pm_card_visa');
    const sub = await subscribe(w, c.id);
    await expect(
      w.stripe.subscriptions.update(sub.id, {
        items: [{ id: sub.items.data[0]!.id, quantity: 2 }],
        proration_date: T0 - 1,
      }),
    ).rejects.toMatchObject({ type: 'StripeInvalidRequestError', param: 'proration_date' });
  });
});

describe('cancellation and pause', () => {
  it('cancel at period end, resume, then cancel at period end for real', async () => {
    const w = await makeWorld(kit);
    const c = await customerOnClock(w, 'pm_card_visa');
    const sub = await subscribe(w, c.id);
    const scheduled = await w.stripe.subscriptions.update(sub.id, { cancel_at_period_end: true });
    expect(scheduled).toMatchObject({
      cancel_at_period_end: true,
      cancel_at: FEB_28,
      canceled_at: T0,
      status: 'active',
    });
    const resumed = await w.stripe.subscriptions.update(sub.id, { cancel_at_period_end: false });
    expect(resumed).toMatchObject({ cancel_at_period_end: false, cancel_at: null, canceled_at: null });
    await w.stripe.subscriptions.update(sub.id, { cancel_at_period_end: true });
    await advanceTo(w, FEB_28 + 2 * HOUR);
    const ended = await w.stripe.subscriptions.retrieve(sub.id);
    expect(ended).toMatchObject({ status: 'canceled', ended_at: FEB_28 });
    expect((await w.stripe.invoices.list({ subscription: sub.id })).data).toHaveLength(1);
    expect(await timeline(w, ['customer.subscription.deleted'])).toEqual([
      ['customer.subscription.deleted', FEB_28],
    ]);
  });

  it('cancels immediately', async () => {
    const w = await makeWorld(kit);
    const c = await customerOnClock(w, 'pm_card_visa');
    const sub = await subscribe(w, c.id);
    await advanceTo(w, T0 + 5 * DAY);
    const canceled = await w.stripe.subscriptions.cancel(sub.id, {
      cancellation_details: { comment: 'too pricey' },
    });
    expectStripeShape('Subscription', canceled);
    expect(canceled).toMatchObject({ status: 'canceled', canceled_at: T0 + 5 * DAY, ended_at: T0 + 5 * DAY });
    expect(canceled.cancellation_details).toMatchObject({
      reason: 'cancellation_requested',
      comment: 'too pricey',
    });
    const deleted = (await allEvents(w)).filter((e) => e.type === 'customer.subscription.deleted');
    expect(deleted.map((e) => e.created)).toEqual([T0 + 5 * DAY]);
    expect(deleted[0]?.request?.id).toMatch(/^req_/);
    await expect(w.stripe.subscriptions.cancel(sub.id)).rejects.toMatchObject({
      type: 'StripeInvalidRequestError',
    });
  });

  it('pauses and resumes through the endpoints', async () => {
    const w = await makeWorld(kit);
    const c = await customerOnClock(w, 'pm_card_visa');
    const sub = await subscribe(w, c.id);
    const paused = await w.stripe.subscriptions.pause(sub.id);
    expect(paused.status).toBe('paused');
    await advanceTo(w, FEB_28 + 2 * HOUR);
    expect((await w.stripe.invoices.list({ subscription: sub.id })).data).toHaveLength(1);
    const resumed = await w.stripe.subscriptions.resume(sub.id);
    expect(resumed.status).toBe('active');
    expect(resumed.items.data[0]?.current_period_start).toBe(FEB_28 + 2 * HOUR);
    expect(await timeline(w, ['customer.subscription.paused', 'customer.subscription.resumed'])).toEqual([
      ['customer.subscription.paused', T0],
      ['customer.subscription.resumed', FEB_28 + 2 * HOUR],
    ]);
  });

  it('pause_collection=void voids the renewal invoices until resumes_at', async () => {
    const w = await makeWorld(kit);
    const c = await customerOnClock(w, 'pm_card_visa');
    const sub = await subscribe(w, c.id);
    await w.stripe.subscriptions.update(sub.id, {
      pause_collection: { behavior: 'void', resumes_at: FEB_28 + DAY },
    });
    await advanceTo(w, FEB_28 + 2 * DAY);
    expect((await latestInvoice(w, sub.id)).status).toBe('void');
    expect((await w.stripe.subscriptions.retrieve(sub.id)).pause_collection).toBeNull();
  });
});

describe('subscription items', () => {
  it('adds and removes an item with prorations', async () => {
    const w = await makeWorld(kit);
    const c = await customerOnClock(w, 'pm_card_visa');
    const sub = await subscribe(w, c.id);
    const extra = await w.stripe.subscriptionItems.create({
      subscription: sub.id,
      price: w.pro.id,
      quantity: 1,
      proration_behavior: 'none',
    });
    expectStripeShape('SubscriptionItem', extra);
    expect(extra).toMatchObject({ subscription: sub.id, current_period_end: FEB_28 });
    const list = await w.stripe.subscriptionItems.list({ subscription: sub.id });
    expect(list.data).toHaveLength(2);
    const deleted = await w.stripe.subscriptionItems.del(extra.id, { proration_behavior: 'none' });
    expect(deleted).toMatchObject({ id: extra.id, deleted: true });
    expect((await w.stripe.subscriptions.retrieve(sub.id)).items.data.map((i) => i.id)).toEqual([
      sub.items.data[0]!.id,
    ]);
  });
});

describe('delivery and real time', () => {
  it('delivers clock-driven billing events as signed webhooks', async () => {
    const w = await makeWorld(kit);
    const receiver = await startWebhookReceiver();
    try {
      const endpoint = await w.stripe.webhookEndpoints.create({
        url: receiver.url,
        enabled_events: ['invoice.paid'],
      });
      const c = await customerOnClock(w, 'pm_card_visa');
      const sub = await subscribe(w, c.id);
      await advanceTo(w, FEB_28 + 2 * HOUR);
      const renewal = await latestInvoice(w, sub.id);
      const hook = await receiver.next(
        (h) => h.event.type === 'invoice.paid' && h.event.data.object.id === renewal.id,
      );
      const verifier = new Stripe('sk_test_verify');
      const event = verifier.webhooks.constructEvent(hook.body, hook.signature, endpoint.secret!);
      expect(event).toMatchObject({ type: 'invoice.paid', created: FEB_28 + HOUR, request: { id: null } });
      expect(receiver.received.every((h) => h.event.type === 'invoice.paid')).toBe(true);
    } finally {
      await receiver.close();
    }
  });

  it('subscriptions on real time catch up when their trial ends', async () => {
    const w = await makeWorld(kit);
    const c = await w.stripe.customers.create({ email: 'rt@example.com' });
    await setDefaultCard(w, c.id, 'pm_card_visa');
    const sub = await subscribe(w, c.id, { trial_period_days: 1 });
    expect(sub.status).toBe('trialing');
    const account = kit.emulator.state.account(w.key);
    expect(catchUpRealTime(account, realNow())).toBe(0);
    // A day and two hours later: the trial ends, the invoice is finalized and paid.
    expect(catchUpRealTime(account, realNow() + DAY + 2 * HOUR)).toBeGreaterThanOrEqual(2);
    const after = await w.stripe.subscriptions.retrieve(sub.id);
    expect(after.status).toBe('active');
    expect(await latestInvoice(w, sub.id)).toMatchObject({ status: 'paid', amount_paid: 1000 });
  });
});

describe('API 2026-10-28.endive behaviours', () => {
  it("default_incomplete: the first invoice's PaymentIntent waits for the client's confirmation_secret", async () => {
    const w = await makeWorld(kit);
    const c = await customerOnClock(w);
    const sub = await subscribe(w, c.id, {
      payment_behavior: 'default_incomplete',
      payment_settings: { save_default_payment_method: 'on_subscription' },
      expand: ['latest_invoice.confirmation_secret', 'latest_invoice.payments'],
    });
    expectStripeShape('Subscription', sub);
    expect(sub.status).toBe('incomplete');
    expect(sub.payment_settings?.save_default_payment_method).toBe('on_subscription');
    const invoice = sub.latest_invoice as Stripe.Invoice;
    expectStripeShape('Invoice', invoice);
    expect(invoice).toMatchObject({ status: 'open', amount_due: 1000, amount_paid: 0, attempted: false });
    const secret = invoice.confirmation_secret;
    expect(secret).toEqual({
      type: 'payment_intent',
      client_secret: expect.stringMatching(/^pi_\w+_secret_\w+$/),
    });
    const piId = invoice.payments?.data[0]?.payment.payment_intent as string;
    expect(invoice.payments?.data[0]).toMatchObject({ status: 'open', amount_requested: 1000 });
    const pi = await w.stripe.paymentIntents.retrieve(piId);
    expect(pi).toMatchObject({
      status: 'requires_payment_method',
      amount: 1000,
      customer: c.id,
      client_secret: secret?.client_secret,
      setup_future_usage: 'off_session',
      latest_charge: null,
    });
    // Includable: absent unless expanded.
    const plain = await w.stripe.invoices.retrieve(invoice.id);
    expect('confirmation_secret' in plain).toBe(false);
    const expanded = await w.stripe.invoices.retrieve(invoice.id, { expand: ['confirmation_secret'] });
    expect(expanded.confirmation_secret).toEqual(secret);

    // A declined confirmation leaves everything as it was.
    await expect(
      w.stripe.paymentIntents.confirm(piId, { payment_method: 'pm_card_visa_chargeDeclined' }),
    ).rejects.toMatchObject({ statusCode: 402 });
    expect((await w.stripe.subscriptions.retrieve(sub.id)).status).toBe('incomplete');
    expect(await w.stripe.invoices.retrieve(invoice.id)).toMatchObject({
      status: 'open',
      attempt_count: 1,
      attempted: true,
    });
    expect((await allEvents(w)).filter((e) => e.type === 'invoice.payment_failed')).toHaveLength(1);

    // The client confirms: the invoice is paid, the subscription active, the card its default.
    const confirmed = await w.stripe.paymentIntents.confirm(piId, { payment_method: 'pm_card_visa' });
    expect(confirmed.status).toBe('succeeded');
    const after = await w.stripe.subscriptions.retrieve(sub.id, { expand: ['latest_invoice.payments'] });
    expect(after.status).toBe('active');
    expect(after.default_payment_method).toBe(confirmed.payment_method);
    expect(after.latest_invoice).toMatchObject({ status: 'paid', amount_paid: 1000 });
    expect((after.latest_invoice as Stripe.Invoice).payments?.data[0]).toMatchObject({
      status: 'paid',
      amount_paid: 1000,
    });
    const types = (await allEvents(w)).map((e) => e.type);
    const paidAt = types.indexOf('invoice.paid');
    expect(paidAt).toBeGreaterThan(types.indexOf('payment_intent.succeeded'));
    expect(types.slice(paidAt)).toContain('customer.subscription.updated');
    // Confirmed once: another succeeded PaymentIntent of the customer does not touch the invoice.
    expect(types.filter((t) => t === 'invoice.paid')).toHaveLength(1);
  });

  it('default_incomplete on an invoiced upgrade leaves its PaymentIntent to the client', async () => {
    const w = await makeWorld(kit);
    const c = await customerOnClock(w, 'pm_card_visa');
    const sub = await subscribe(w, c.id);
    await advanceTo(w, T0 + 10 * DAY);
    const updated = await w.stripe.subscriptions.update(sub.id, {
      items: [{ id: sub.items.data[0]!.id, price: w.pro.id }],
      proration_behavior: 'always_invoice',
      payment_behavior: 'default_incomplete',
      expand: ['latest_invoice.confirmation_secret', 'latest_invoice.payments'],
    });
    const invoice = updated.latest_invoice as Stripe.Invoice;
    expect(invoice).toMatchObject({ status: 'open', billing_reason: 'subscription_update', amount_due: 643 });
    expect(invoice.confirmation_secret?.type).toBe('payment_intent');
    const piId = invoice.payments?.data[0]?.payment.payment_intent as string;
    expect(await w.stripe.paymentIntents.retrieve(piId)).toMatchObject({
      status: 'requires_confirmation',
      amount: 643,
    });
    await w.stripe.paymentIntents.confirm(piId);
    expect(await w.stripe.invoices.retrieve(invoice.id)).toMatchObject({ status: 'paid', amount_paid: 643 });
    expect((await w.stripe.subscriptions.retrieve(sub.id)).status).toBe('active');
  });

  it('default_incomplete with a default card prepares the PaymentIntent without charging it', async () => {
    const w = await makeWorld(kit);
    const c = await customerOnClock(w, 'pm_card_visa');
    const sub = await subscribe(w, c.id, {
      payment_behavior: 'default_incomplete',
      expand: ['latest_invoice.payments.data.payment.payment_intent'],
    });
    expect(sub.status).toBe('incomplete');
    const pi = (sub.latest_invoice as Stripe.Invoice).payments?.data[0]?.payment
      .payment_intent as Stripe.PaymentIntent;
    expect(pi).toMatchObject({
      status: 'requires_confirmation',
      payment_method: c.invoice_settings.default_payment_method,
    });
    expect((await w.stripe.charges.list({ customer: c.id })).data).toEqual([]);
  });

  it('3-D Secure completed on the first invoice pays it and activates the subscription', async () => {
    const w = await makeWorld(kit);
    const c = await customerOnClock(w, 'pm_card_authenticationRequired');
    const sub = await subscribe(w, c.id, { expand: ['latest_invoice.payments'] });
    expect(sub.status).toBe('incomplete');
    const piId = (sub.latest_invoice as Stripe.Invoice).payments?.data[0]?.payment.payment_intent as string;
    expect((await w.stripe.paymentIntents.retrieve(piId)).status).toBe('requires_action');
    const res = await fetch(`${kit.emulator.url}/_emulator/3ds/${piId}?result=succeed`, { method: 'POST' });
    expect(res.status).toBeLessThan(400);
    const after = await w.stripe.subscriptions.retrieve(sub.id, { expand: ['latest_invoice'] });
    expect(after.status).toBe('active');
    expect(after.latest_invoice).toMatchObject({ status: 'paid', amount_paid: 1000 });
  });

  it('subscriptions default to flexible billing mode; classic on request', async () => {
    const w = await makeWorld(kit);
    const c = await customerOnClock(w, 'pm_card_visa');
    const flexible = await subscribe(w, c.id);
    expectStripeShape('Subscription', flexible);
    expect(flexible.billing_mode).toEqual({
      type: 'flexible',
      flexible: { proration_discounts: 'included' },
      updated_at: T0,
    });
    const classic = await subscribe(w, c.id, { billing_mode: { type: 'classic' } });
    expectStripeShape('Subscription', classic);
    expect(classic.billing_mode).toEqual({ type: 'classic', flexible: null });
    await expect(subscribe(w, c.id, { billing_mode: { type: 'modern' as 'classic' } })).rejects.toMatchObject(
      { statusCode: 400, param: 'billing_mode[type]' },
    );
  });

  it('accepts pm_card_* shortcuts for the customer default (created with it) and the subscription default', async () => {
    const w = await makeWorld(kit);
    const c = await w.stripe.customers.create({
      test_clock: w.clock.id,
      payment_method: 'pm_card_visa',
      invoice_settings: { default_payment_method: 'pm_card_visa' },
    });
    const methods = await w.stripe.customers.listPaymentMethods(c.id);
    expect(methods.data).toHaveLength(1);
    expect(c.invoice_settings.default_payment_method).toBe(methods.data[0]!.id);
    const sub = await subscribe(w, c.id, {
      default_payment_method: 'pm_card_mastercard',
      expand: ['default_payment_method', 'latest_invoice.payments.data.payment.payment_intent'],
    });
    expect(sub.status).toBe('active');
    const pm = sub.default_payment_method as Stripe.PaymentMethod;
    expect(pm).toMatchObject({
      id: expect.stringMatching(/^pm_/),
      customer: c.id,
      card: { brand: 'mastercard' },
    });
    const pi = (sub.latest_invoice as Stripe.Invoice).payments?.data[0]?.payment
      .payment_intent as Stripe.PaymentIntent;
    expect(pi.payment_method).toBe(pm.id);
    // A shortcut the request did not attach is still refused as a default (Stripe's rule).
    await expect(
      w.stripe.customers.update(c.id, { invoice_settings: { default_payment_method: 'pm_card_amex' } }),
    ).rejects.toMatchObject({ statusCode: 400, param: 'invoice_settings[default_payment_method]' });
  });

  it('createPreview prorates to the second at the given proration_date, and the update matches it', async () => {
    const w = await makeWorld(kit);
    const c = await customerOnClock(w, 'pm_card_visa');
    const sub = await subscribe(w, c.id, { items: [{ price: w.basic.id, quantity: 2 }] });
    const start = T0;
    const end = FEB_28;
    const t = T0 + 9 * DAY + 12_345; // not on a day boundary
    await advanceTo(w, t);
    const item = sub.items.data[0]!;
    const details = {
      items: [{ id: item.id, price: w.pro.id, quantity: 3 }],
      proration_behavior: 'create_prorations' as const,
      proration_date: t,
    };
    const preview = await w.stripe.invoices.createPreview({
      subscription: sub.id,
      subscription_details: details,
    });
    expectStripeShape('Invoice', preview);
    const remaining = (end - t) / (end - start);
    const credit = -Math.round(1000 * 2 * remaining);
    const debit = Math.round(2000 * 3 * remaining);
    const prorations = preview.lines.data.filter((l) => l.parent?.subscription_item_details?.proration);
    expect(prorations.map((l) => l.amount)).toEqual([credit, debit]);
    expect(preview.parent?.subscription_details?.subscription_proration_date).toBe(t);
    // The next invoice: the prorations plus the new period at the new price.
    expect(preview.amount_due).toBe(credit + debit + 6000);
    // Another proration date is another amount (createPreview reads subscription_details[proration_date]).
    const later = await w.stripe.invoices.createPreview({
      subscription: sub.id,
      subscription_details: { ...details, proration_date: t - 86_400 },
    });
    expect(
      later.lines.data.filter((l) => l.parent?.subscription_item_details?.proration).map((l) => l.amount),
    ).not.toEqual([credit, debit]);
    // Any second of the period: unit x quantity x (end - t) / (end - start), rounded once per line.
    const oneSecond = await w.stripe.invoices.createPreview({
      subscription: sub.id,
      subscription_details: { ...details, proration_date: t + 1 },
    });
    const exact = (unit: number, qty: number, at: number): number =>
      Math.round((unit * qty * (end - at)) / (end - start));
    expect(
      oneSecond.lines.data.filter((l) => l.parent?.subscription_item_details?.proration).map((l) => l.amount),
    ).toEqual([-exact(1000, 2, t + 1), exact(2000, 3, t + 1)]);
    await expect(
      w.stripe.invoices.createPreview({
        subscription: sub.id,
        subscription_details: { ...details, proration_date: FEB_28 + 1 },
      }),
    ).rejects.toMatchObject({ statusCode: 400, param: 'subscription_details[proration_date]' });
    await w.stripe.subscriptions.update(sub.id, details);
    const pending = await w.stripe.invoiceItems.list({ customer: c.id, pending: true });
    expect(pending.data.map((i) => i.amount).sort((a, b) => a - b)).toEqual([credit, debit]);
  });
});

describe('interval changes: the billing cycle restarts and is invoiced at once', () => {
  const MID = T0 + 10 * DAY; // 18 of 28 days of the Jan 31 -> Feb 28 period remain
  async function yearlyPrice(w: World, amount: number): Promise<Stripe.Price> {
    return w.stripe.prices.create({
      product: w.product.id,
      currency: 'usd',
      unit_amount: amount,
      recurring: { interval: 'year' },
    });
  }

  it('monthly -> yearly: the new year in full less the unused month, charged exactly as previewed, anchor reset to the change', async () => {
    const w = await makeWorld(kit);
    const yearly = await yearlyPrice(w, 10_000);
    const c = await customerOnClock(w, 'pm_card_visa');
    const sub = await subscribe(w, c.id);
    await advanceTo(w, MID);
    const item = sub.items.data[0]!;
    const details = {
      items: [{ id: item.id, price: yearly.id }],
      proration_behavior: 'always_invoice' as const,
      proration_date: MID,
    };
    const preview = await w.stripe.invoices.createPreview({
      subscription: sub.id,
      subscription_details: details,
    });
    expectStripeShape('Invoice', preview);
    // 1000 x 18/28 = 642.857 -> 643 credited; the year's 10000 in full.
    expect(preview.lines.data.map((l) => l.amount)).toEqual([-643, 10_000]);
    expect(preview.lines.data.map((l) => l.parent?.subscription_item_details?.proration)).toEqual([
      true,
      false,
    ]);
    expect(preview).toMatchObject({ amount_due: 9_357, billing_reason: 'subscription_update' });
    expect(preview.parent?.subscription_details?.subscription_proration_date).toBe(MID);
    expect(preview.lines.data[1]?.period).toEqual({ start: MID, end: at('2027-02-10T12:00:00Z') });

    // Applied an hour later at the previewed proration_date: the same charge, the cycle restarts now.
    await advanceTo(w, MID + HOUR);
    const updated = await w.stripe.subscriptions.update(sub.id, {
      ...details,
      payment_behavior: 'error_if_incomplete',
      expand: ['latest_invoice'],
    });
    const invoice = updated.latest_invoice as Stripe.Invoice;
    expect(invoice).toMatchObject({
      status: 'paid',
      billing_reason: 'subscription_update',
      amount_paid: 9_357,
      total: preview.total,
    });
    expect(invoice.lines.data.map((l) => l.amount)).toEqual([-643, 10_000]);
    expect(invoice.parent?.subscription_details?.subscription_proration_date).toBe(MID);
    expect(updated.billing_cycle_anchor).toBe(MID + HOUR);
    expect(updated.items.data[0]).toMatchObject({
      id: item.id,
      price: { id: yearly.id },
      current_period_start: MID + HOUR,
      current_period_end: at('2027-02-10T13:00:00Z'),
    });
    // The next invoice is the renewal a year later, at the yearly price.
    const next = await w.stripe.invoices.createPreview({ subscription: sub.id });
    expect(next.amount_due).toBe(10_000);
    expect(next.next_payment_attempt).toBe(at('2027-02-10T14:00:00Z'));
  });

  it('yearly -> monthly: the unused year is credited, what the month does not use goes to the credit balance', async () => {
    const w = await makeWorld(kit);
    const yearly = await yearlyPrice(w, 12_000);
    const c = await customerOnClock(w, 'pm_card_visa');
    const sub = await w.stripe.subscriptions.create({ customer: c.id, items: [{ price: yearly.id }] });
    const yearEnd = at('2027-01-31T12:00:00Z');
    const t = T0 + 73 * DAY; // 292 of 365 days remain
    await advanceTo(w, t);
    const item = sub.items.data[0]!;
    const details = {
      items: [{ id: item.id, price: w.basic.id }],
      proration_behavior: 'create_prorations' as const,
      proration_date: t,
    };
    const preview = await w.stripe.invoices.createPreview({
      subscription: sub.id,
      subscription_details: details,
    });
    const credit = -Math.round((12_000 * (yearEnd - t)) / (yearEnd - T0));
    expect(credit).toBe(-9_600);
    expect(preview.lines.data.map((l) => l.amount)).toEqual([credit, 1_000]);
    expect(preview).toMatchObject({
      amount_due: 0,
      total: credit + 1_000,
      starting_balance: 0,
      ending_balance: credit + 1_000,
    });
    const updated = await w.stripe.subscriptions.update(sub.id, { ...details, expand: ['latest_invoice'] });
    const invoice = updated.latest_invoice as Stripe.Invoice;
    expect(invoice).toMatchObject({ status: 'paid', amount_paid: 0, total: preview.total });
    expect(updated.billing_cycle_anchor).toBe(t);
    expect(updated.items.data[0]?.current_period_end).toBe(at('2026-05-14T12:00:00Z'));
    const customer = (await w.stripe.customers.retrieve(c.id)) as Stripe.Customer;
    expect(customer.balance).toBe(credit + 1_000);
    // The next month is paid from that credit.
    const renewal = await w.stripe.invoices.createPreview({ subscription: sub.id });
    expect(renewal).toMatchObject({ total: 1_000, amount_due: 0 });
  });

  it('applies the customer credit balance to the change, in the preview as in the charge', async () => {
    const w = await makeWorld(kit);
    const yearly = await yearlyPrice(w, 10_000);
    const c = await customerOnClock(w, 'pm_card_visa');
    const sub = await subscribe(w, c.id);
    await w.stripe.customers.createBalanceTransaction(c.id, { amount: -2_500, currency: 'usd' });
    await advanceTo(w, MID);
    const details = {
      items: [{ id: sub.items.data[0]!.id, price: yearly.id }],
      proration_behavior: 'always_invoice' as const,
      proration_date: MID,
    };
    const preview = await w.stripe.invoices.createPreview({
      subscription: sub.id,
      subscription_details: details,
    });
    expect(preview).toMatchObject({ amount_due: 9_357 - 2_500, starting_balance: -2_500, ending_balance: 0 });
    const updated = await w.stripe.subscriptions.update(sub.id, {
      ...details,
      payment_behavior: 'error_if_incomplete',
      expand: ['latest_invoice'],
    });
    expect(updated.latest_invoice).toMatchObject({ amount_paid: preview.amount_due, total: preview.total });
    expect(((await w.stripe.customers.retrieve(c.id)) as Stripe.Customer).balance).toBe(0);
  });

  it('error_if_incomplete with a failing card answers 402 and changes nothing (items, anchor, period)', async () => {
    const w = await makeWorld(kit);
    const yearly = await yearlyPrice(w, 10_000);
    const c = await customerOnClock(w, 'pm_card_visa');
    const sub = await subscribe(w, c.id);
    await advanceTo(w, MID);
    await setDefaultCard(w, c.id, 'pm_card_chargeCustomerFail');
    const before = await w.stripe.subscriptions.retrieve(sub.id);
    await expect(
      w.stripe.subscriptions.update(sub.id, {
        items: [{ id: sub.items.data[0]!.id, price: yearly.id }],
        proration_behavior: 'always_invoice',
        payment_behavior: 'error_if_incomplete',
      }),
    ).rejects.toMatchObject({ statusCode: 402 });
    const after = await w.stripe.subscriptions.retrieve(sub.id);
    expect(after.billing_cycle_anchor).toBe(before.billing_cycle_anchor);
    expect(after.latest_invoice).toBe(before.latest_invoice);
    expect(after.items.data[0]).toMatchObject({
      price: { id: w.basic.id },
      current_period_start: before.items.data[0]!.current_period_start,
      current_period_end: before.items.data[0]!.current_period_end,
    });
  });
});
