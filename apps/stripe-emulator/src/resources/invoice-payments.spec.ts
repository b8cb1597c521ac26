import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type Stripe from 'stripe';
import { expectStripeListShape } from '../../test-support/stripe-shapes.js';
import type { TestEmulator } from '../core/test-kit.js';
import { HOUR, advanceTo, at, customerOnClock, makeWorld, startKit } from '../billing/testing.js';

let kit: TestEmulator;
beforeAll(async () => {
  kit = await startKit();
});
afterAll(async () => {
  await kit.close();
});

// At the pinned API version a PaymentIntent has no `invoice` field: the InvoicePayment is the only link
// from a PaymentIntent to the invoice it pays, found with `payment[type]` + `payment[payment_intent]`.
describe('invoice payments: every PaymentIntent that pays an invoice is found by its id', () => {
  it('links the first invoice, a renewal, an immediately invoiced change, a prepaid first invoice, a client-confirmed one and each attempt of a retried invoice; a one-time payment has none', async () => {
    const w = await makeWorld(kit);
    const c = await customerOnClock(w, 'pm_card_visa');
    // The first invoice, charged at creation.
    const sub = await w.stripe.subscriptions.create({ customer: c.id, items: [{ price: w.basic.id }] });
    const first = sub.latest_invoice as string;
    // A change invoiced (and charged) at once.
    await advanceTo(w, at('2026-02-10T12:00:00Z'));
    const changed = await w.stripe.subscriptions.update(sub.id, {
      items: [{ id: sub.items.data[0]!.id, price: w.pro.id }],
      proration_behavior: 'always_invoice',
    });
    const change = changed.latest_invoice as string;
    // The renewal: drafted at the period's end, finalized and charged an hour later.
    await advanceTo(w, at('2026-02-28T12:00:00Z') + 2 * HOUR);
    const renewal = (await w.stripe.subscriptions.retrieve(sub.id)).latest_invoice as string;
    expect(new Set([first, change, renewal]).size).toBe(3);
    // error_if_incomplete charges before the invoice exists; the charge still pays (and links) it.
    const prepaidSub = await w.stripe.subscriptions.create({
      customer: c.id,
      items: [{ price: w.basic.id }],
      payment_behavior: 'error_if_incomplete',
    });
    const prepaid = prepaidSub.latest_invoice as string;
    // default_incomplete: the invoice's PaymentIntent is made open, and the client confirms it.
    const incompleteSub = await w.stripe.subscriptions.create({
      customer: c.id,
      items: [{ price: w.basic.id }],
      payment_behavior: 'default_incomplete',
    });
    const incomplete = incompleteSub.latest_invoice as string;
    const [opened] = (await w.stripe.invoicePayments.list({ invoice: incomplete })).data;
    await w.stripe.paymentIntents.confirm(opened!.payment.payment_intent as string, {
      payment_method: 'pm_card_visa',
    });
    // A manual invoice declined once, then paid with another card: two PaymentIntents, two links.
    const draft = await w.stripe.invoices.create({ customer: c.id });
    await w.stripe.invoiceItems.create({ customer: c.id, invoice: draft.id, amount: 700, currency: 'usd' });
    const declining = await w.stripe.paymentMethods.attach('pm_card_chargeCustomerFail', { customer: c.id });
    await w.stripe.invoices.finalizeInvoice(draft.id);
    await expect(w.stripe.invoices.pay(draft.id, { payment_method: declining.id })).rejects.toMatchObject({
      statusCode: 402,
    });
    await w.stripe.invoices.pay(draft.id);
    // A one-time payment of the same customer.
    const oneTime = await w.stripe.paymentIntents.create({
      amount: 1500,
      currency: 'usd',
      customer: c.id,
      payment_method: 'pm_card_visa',
      confirm: true,
    });

    const intents = (await w.stripe.paymentIntents.list({ customer: c.id, limit: 100 })).data;
    expect(intents).toHaveLength(8);
    const links = new Map<string, Stripe.InvoicePayment[]>();
    for (const pi of intents) {
      const found = await w.stripe.invoicePayments.list({
        payment: { type: 'payment_intent', payment_intent: pi.id },
      });
      expectStripeListShape('InvoicePayment', found);
      expect(found.url).toBe('/v1/invoice_payments');
      links.set(pi.id, found.data);
    }
    expect(links.get(oneTime.id)).toEqual([]);
    // Every other PaymentIntent: exactly one InvoicePayment, naming it.
    const byInvoice = new Map<string, { status: string; amount: number | null }[]>();
    for (const pi of intents.filter((p) => p.id !== oneTime.id)) {
      const list = links.get(pi.id)!;
      expect(list).toHaveLength(1);
      const link = list[0]!;
      expect(link.payment).toEqual({ type: 'payment_intent', payment_intent: pi.id });
      const invoice = link.invoice as string;
      byInvoice.set(invoice, [
        ...(byInvoice.get(invoice) ?? []),
        { status: link.status, amount: link.amount_paid },
      ]);
    }
    const proRated = (await w.stripe.invoices.retrieve(change)).amount_paid;
    expect(Object.fromEntries(byInvoice)).toEqual({
      [first]: [{ status: 'paid', amount: 1000 }],
      [change]: [{ status: 'paid', amount: proRated }],
      [renewal]: [{ status: 'paid', amount: 2000 }],
      [prepaid]: [{ status: 'paid', amount: 1000 }],
      [incomplete]: [{ status: 'paid', amount: 1000 }],
      // Newest first: the paying attempt, then the declined one (canceled when the next one began).
      [draft.id]: [
        { status: 'paid', amount: 700 },
        { status: 'canceled', amount: null },
      ],
    });
    expect(proRated).toBeGreaterThan(0);

    // Combined with the other filters.
    const paidOnly = await w.stripe.invoicePayments.list({ invoice: draft.id, status: 'paid' });
    expect(paidOnly.data.map((p) => p.amount_paid)).toEqual([700]);
    const otherInvoice = await w.stripe.invoicePayments.list({
      invoice: first,
      payment: { type: 'payment_intent', payment_intent: paidOnly.data[0]!.payment.payment_intent as string },
    });
    expect(otherInvoice.data).toEqual([]);
    const records = await w.stripe.invoicePayments.list({ payment: { type: 'payment_record' } });
    expect(records.data).toEqual([]);
  });

  it('refuses a payment filter without its type, an unknown type and an unknown status', async () => {
    const w = await makeWorld(kit);
    const list = (query: string) =>
      fetch(`${kit.emulator.url}/v1/invoice_payments?${query}`, {
        headers: { authorization: `Bearer ${w.key}` },
      }).then(async (r) => ({
        status: r.status,
        body: (await r.json()) as { error?: Record<string, string> },
      }));
    expect(await list('payment[payment_intent]=pi_123')).toMatchObject({
      status: 400,
      body: { error: { type: 'invalid_request_error', param: 'payment[type]', code: 'parameter_missing' } },
    });
    expect(await list('payment[type]=charge&payment[payment_intent]=pi_123')).toMatchObject({
      status: 400,
      body: { error: { param: 'payment[type]' } },
    });
    expect(await list('status=lost')).toMatchObject({ status: 400, body: { error: { param: 'status' } } });
    expect(await list('payment[type]=payment_intent&payment[payment_intent]=pi_unknown')).toMatchObject({
      status: 200,
      body: { object: 'list', data: [], has_more: false },
    });
  });
});
