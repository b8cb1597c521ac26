import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type Stripe from 'stripe';
import { expectStripeListShape, expectStripeShape } from '../../test-support/stripe-shapes.js';
import type { TestEmulator } from '../core/test-kit.js';
import {
  DAY,
  HOUR,
  T0,
  type World,
  advanceTo,
  allEvents,
  customerOnClock,
  makeWorld,
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

async function draftWithItems(w: World, customer: string, amounts: number[]): Promise<Stripe.Invoice> {
  const invoice = await w.stripe.invoices.create({
    customer,
    description: 'Consulting',
    metadata: { ref: 'x1' },
  });
  for (const amount of amounts) {
    await w.stripe.invoiceItems.create({
      customer,
      invoice: invoice.id,
      amount,
      currency: 'usd',
      description: `Item ${amount}`,
    });
  }
  return w.stripe.invoices.retrieve(invoice.id);
}

describe('invoices and invoice items', () => {
  it('drafts, finalizes and pays with a chosen payment method', async () => {
    const w = await makeWorld(kit);
    const c = await customerOnClock(w, 'pm_card_visa');
    const draft = await draftWithItems(w, c.id, [1500, 250]);
    expectStripeShape('Invoice', draft);
    expect(draft).toMatchObject({
      status: 'draft',
      subtotal: 1750,
      total: 1750,
      amount_due: 1750,
      number: null,
      billing_reason: 'manual',
      parent: null,
    });
    const lines = await w.stripe.invoices.listLineItems(draft.id);
    expectStripeListShape('InvoiceLineItem', lines);
    expect(lines.data.map((l) => [l.amount, l.parent?.type])).toEqual([
      [1500, 'invoice_item_details'],
      [250, 'invoice_item_details'],
    ]);
    const open = await w.stripe.invoices.finalizeInvoice(draft.id);
    expect(open.status).toBe('open');
    expect(open.number).toMatch(/^[0-9A-F]{8}-0001$/);
    expect(open.hosted_invoice_url).toBe(`${kit.emulator.url}/_emulator/invoices/${open.id}`);
    expect(open.status_transitions.finalized_at).toBe(T0);
    const pm = await w.stripe.paymentMethods.attach('pm_card_mastercard', { customer: c.id });
    const paid = await w.stripe.invoices.pay(open.id, {
      payment_method: pm.id,
      expand: ['payments.data.payment.payment_intent'],
    });
    expect(paid).toMatchObject({
      status: 'paid',
      amount_paid: 1750,
      amount_remaining: 0,
      attempt_count: 1,
      attempted: true,
    });
    const pi = paid.payments?.data[0]?.payment.payment_intent as Stripe.PaymentIntent;
    expect(pi).toMatchObject({ amount: 1750, status: 'succeeded', payment_method: pm.id });
    expect(
      await timeline(w, [
        'invoice.created',
        'invoiceitem.created',
        'invoice.finalized',
        'invoice.paid',
        'invoice.payment_succeeded',
      ]),
    ).toEqual([
      ['invoice.created', T0],
      ['invoiceitem.created', T0],
      ['invoiceitem.created', T0],
      ['invoice.finalized', T0],
      ['invoice.paid', T0],
      ['invoice.payment_succeeded', T0],
    ]);
    const payments = await w.stripe.invoicePayments.list({ invoice: paid.id });
    expect(payments.data.map((p) => p.status)).toEqual(['paid']);
  });

  it('a declined payment answers 402, counts the attempt and leaves the invoice open', async () => {
    const w = await makeWorld(kit);
    const c = await customerOnClock(w, 'pm_card_chargeCustomerFail');
    const draft = await draftWithItems(w, c.id, [900]);
    await w.stripe.invoices.finalizeInvoice(draft.id);
    await expect(w.stripe.invoices.pay(draft.id)).rejects.toMatchObject({
      type: 'StripeCardError',
      statusCode: 402,
      code: 'card_declined',
      decline_code: 'generic_decline',
    });
    expect(await w.stripe.invoices.retrieve(draft.id)).toMatchObject({
      status: 'open',
      attempt_count: 1,
      amount_paid: 0,
    });
    expect((await timeline(w, ['invoice.payment_failed'])).length).toBe(1);
  });

  it('voids and marks uncollectible, and refuses transitions the status machine forbids', async () => {
    const w = await makeWorld(kit);
    const c = await customerOnClock(w, 'pm_card_visa');
    const a = await draftWithItems(w, c.id, [500]);
    await expect(w.stripe.invoices.voidInvoice(a.id)).rejects.toMatchObject({
      type: 'StripeInvalidRequestError',
    });
    await w.stripe.invoices.finalizeInvoice(a.id);
    const voided = await w.stripe.invoices.voidInvoice(a.id);
    expect(voided).toMatchObject({ status: 'void', status_transitions: { voided_at: T0 } });
    await expect(w.stripe.invoices.pay(a.id)).rejects.toMatchObject({ type: 'StripeInvalidRequestError' });
    const b = await draftWithItems(w, c.id, [700]);
    await w.stripe.invoices.finalizeInvoice(b.id);
    const bad = await w.stripe.invoices.markUncollectible(b.id);
    expect(bad.status).toBe('uncollectible');
    await expect(w.stripe.invoices.finalizeInvoice(b.id)).rejects.toMatchObject({
      type: 'StripeInvalidRequestError',
    });
    // An uncollectible invoice can still be paid.
    expect((await w.stripe.invoices.pay(b.id)).status).toBe('paid');
    expect(await timeline(w, ['invoice.voided', 'invoice.marked_uncollectible'])).toEqual([
      ['invoice.voided', T0],
      ['invoice.marked_uncollectible', T0],
    ]);
    expect((await w.stripe.invoices.list({ customer: c.id, status: 'void' })).data.map((i) => i.id)).toEqual([
      a.id,
    ]);
  });

  it('deletes a draft and leaves its items pending; pending items join the next invoice on request', async () => {
    const w = await makeWorld(kit);
    const c = await customerOnClock(w, 'pm_card_visa');
    const draft = await draftWithItems(w, c.id, [100]);
    const deleted = await w.stripe.invoices.del(draft.id);
    expect(deleted).toEqual(expect.objectContaining({ id: draft.id, deleted: true }));
    await expect(w.stripe.invoices.retrieve(draft.id)).rejects.toMatchObject({ statusCode: 404 });
    const pending = await w.stripe.invoiceItems.list({ customer: c.id, pending: true });
    expect(pending.data.map((i) => i.amount)).toEqual([100]);
    const next = await w.stripe.invoices.create({
      customer: c.id,
      pending_invoice_items_behavior: 'include',
    });
    expect(next.total).toBe(100);
    const excluded = await w.stripe.invoices.create({ customer: c.id });
    expect(excluded.total).toBe(0);
  });

  it('applies customer credit at finalization and returns it when voided', async () => {
    const w = await makeWorld(kit);
    const c = await customerOnClock(w, 'pm_card_visa');
    await w.stripe.customers.update(c.id, { balance: -400 });
    const draft = await draftWithItems(w, c.id, [1000]);
    expect(draft.amount_due).toBe(1000);
    const open = await w.stripe.invoices.finalizeInvoice(draft.id);
    expect(open).toMatchObject({ starting_balance: -400, ending_balance: 0, amount_due: 600 });
    expect(((await w.stripe.customers.retrieve(c.id)) as Stripe.Customer).balance).toBe(0);
    await w.stripe.invoices.voidInvoice(open.id);
    expect(((await w.stripe.customers.retrieve(c.id)) as Stripe.Customer).balance).toBe(-400);
  });

  it('serves the hosted invoice page and a PDF', async () => {
    const w = await makeWorld(kit);
    const c = await customerOnClock(w, 'pm_card_visa');
    const draft = await draftWithItems(w, c.id, [4200]);
    const open = await w.stripe.invoices.finalizeInvoice(draft.id);
    const page = await fetch(open.hosted_invoice_url!);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    const text = await page.text();
    expect(text).toContain('Item 4200');
    expect(text).toContain('42.00 USD');
    const pdf = await fetch(open.invoice_pdf!);
    expect(pdf.headers.get('content-type')).toBe('application/pdf');
    const body = await pdf.text();
    expect(body.startsWith('%PDF-1.4')).toBe(true);
    expect(body).toContain(open.number!);
    expect(body.trimEnd().endsWith('%%EOF')).toBe(true);
  });

  it('updates and deletes invoice items on drafts', async () => {
    const w = await makeWorld(kit);
    const c = await customerOnClock(w, 'pm_card_visa');
    const draft = await draftWithItems(w, c.id, [100, 200]);
    const items = await w.stripe.invoiceItems.list({ invoice: draft.id });
    items.data.forEach((i) => expectStripeShape('InvoiceItem', i));
    const first = items.data.find((i) => i.amount === 100)!;
    await w.stripe.invoiceItems.update(first.id, { amount: 150, description: 'Changed' });
    expect((await w.stripe.invoices.retrieve(draft.id)).total).toBe(350);
    await w.stripe.invoiceItems.del(first.id);
    expect((await w.stripe.invoices.retrieve(draft.id)).total).toBe(200);
  });
});

describe('3-D Secure on a renewal', () => {
  it('emits invoice.payment_action_required and keeps the invoice open', async () => {
    const w = await makeWorld(kit);
    const c = await customerOnClock(w, 'pm_card_visa');
    const sub = await w.stripe.subscriptions.create({ customer: c.id, items: [{ price: w.basic.id }] });
    const pm = await w.stripe.paymentMethods.attach('pm_card_authenticationRequired', { customer: c.id });
    await w.stripe.subscriptions.update(sub.id, { default_payment_method: pm.id });
    const renewal = Date.UTC(2026, 1, 28, 12) / 1000;
    await advanceTo(w, renewal + 2 * HOUR);
    const after = await w.stripe.subscriptions.retrieve(sub.id, { expand: ['latest_invoice'] });
    expect(after.status).toBe('past_due');
    expect(after.latest_invoice).toMatchObject({
      status: 'open',
      attempt_count: 1,
      next_payment_attempt: renewal + HOUR + 3 * DAY,
    });
    expect(await timeline(w, ['invoice.payment_failed', 'invoice.payment_action_required'], T0)).toEqual([
      ['invoice.payment_failed', renewal + HOUR],
      ['invoice.payment_action_required', renewal + HOUR],
    ]);
    const events = await allEvents(w);
    expect(events.some((e) => e.type === 'payment_intent.requires_action')).toBe(true);
  });
});
