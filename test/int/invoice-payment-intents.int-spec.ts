import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import type Stripe from 'stripe';
import { RecordingProxy } from '../support/recording-proxy.js';
import { http, tokenFor } from '../support/test-app.js';
import { createAccountWith, plain, startPaymentsStack, type PaymentsStack } from './notifications.support.js';
import { decodeHeader, mailsTo, payingAccount, outboxSettled } from './receipts.support.js';
import { allWebhooksSettled } from './plan-change.support.js';
import { eventsOf } from './stripe-mirrors.support.js';
import { queueAsOneBatch, stripeEvent, until } from './webhooks.support.js';

const MERCHANT = 'Acme Cloud GmbH';

interface PaymentJson {
  id: string;
  stripePaymentIntentId: string | null;
  status: string;
  amount: number;
}

interface InboxRow {
  id: string;
  type: string;
  status: string;
  attempts: number;
  last_error: string | null;
}

// A PaymentIntent that pays an invoice is the invoice's: the invoice has the receipt and the e-mail,
// and the PaymentIntent is no payment of the account (R-SUB-7, R-PAY-3). The emulator's subscriptions
// and test clocks charge real invoices, its signed webhooks reach the app, and the app's Stripe calls
// go through a recording proxy, so the test sees what the payments mirror asks Stripe.
describe("PaymentIntents that pay invoices are the invoices', not payments", () => {
  let s: PaymentsStack;
  let proxy: RecordingProxy;
  let price: string;
  const accountIds: string[] = [];

  beforeAll(async () => {
    proxy = new RecordingProxy();
    const base = await proxy.start();
    s = await startPaymentsStack({
      MERCHANT_NAME: MERCHANT,
      STRIPE_API_BASE: base,
      WEBHOOK_BACKOFF_MS: '300',
    });
    proxy.forwardTo(s.kit.emulator.url);
    const product = await s.stripe.products.create({ name: 'Pro' });
    price = (
      await s.stripe.prices.create({
        product: product.id,
        unit_amount: 2900,
        currency: 'usd',
        recurring: { interval: 'month' },
      })
    ).id;
  }, 60_000);
  afterAll(async () => {
    await s?.close();
    await proxy?.stop();
  });

  interface Customer {
    accountId: string;
    customer: string;
    billingEmail: string;
    owner: string;
  }

  /** An account whose Stripe customer (linked by metadata, optionally on a test clock) pays by Visa. */
  async function customer(clock?: string): Promise<Customer> {
    const billingEmail = `billing-${randomUUID().slice(0, 8)}@example.test`;
    const accountId = await createAccountWith(s.t.url, s.admin, {
      locale: 'en-US',
      timeZone: 'UTC',
      billingEmail,
    });
    accountIds.push(accountId);
    const created = await s.stripe.customers.create({
      email: billingEmail,
      metadata: { account_id: accountId },
      ...(clock ? { test_clock: clock } : {}),
    });
    const pm = await s.stripe.paymentMethods.attach('pm_card_visa', { customer: created.id });
    await s.stripe.customers.update(created.id, { invoice_settings: { default_payment_method: pm.id } });
    await until(async () => {
      const rows = await s.t.db.query<{ c: string | null }[]>(
        `SELECT stripe_customer_id AS c FROM accounts WHERE id = $1`,
        [accountId],
      );
      return rows[0]?.c === created.id;
    }, 'the customer linked to the account');
    const owner = await tokenFor({ sub: `owner-${randomUUID()}`, role: 'owner', accountId });
    return { accountId, customer: created.id, billingEmail, owner };
  }

  /** The PaymentIntents that paid the invoice (its InvoicePayments), newest first. */
  async function intentsOf(invoiceId: string): Promise<string[]> {
    const links = await s.stripe.invoicePayments.list({ invoice: invoiceId });
    return links.data.map((l) => l.payment.payment_intent as string);
  }

  /** Every event so far about these objects, or about a charge or refund of them. */
  async function eventsAbout(ids: string[]): Promise<Stripe.Event[]> {
    return (await eventsOf(s.stripe)).filter((e) => {
      const o = e.data.object as { id?: string; payment_intent?: string | null };
      return ids.includes(o.id ?? '') || ids.includes(o.payment_intent ?? '');
    });
  }

  /** The inbox rows of these events once each is finished (processed or ignored); fails on a dead one. */
  async function settled(events: Stripe.Event[], timeoutMs = 20_000): Promise<InboxRow[]> {
    const ids = events.map((e) => e.id);
    return until(
      async () => {
        const rows = await s.t.db.query<InboxRow[]>(
          `SELECT id, type, status, attempts, last_error FROM webhook_events WHERE id = ANY($1) ORDER BY id`,
          [ids],
        );
        const dead = rows.find((r) => r.status === 'dead');
        if (dead) throw new Error(`dead letter: ${JSON.stringify(dead)}`);
        const done = rows.filter((r) => r.status === 'processed' || r.status === 'ignored');
        return done.length === ids.length ? rows : null;
      },
      `${ids.length} events finished`,
      timeoutMs,
    );
  }

  /** The questions the app asked Stripe about which invoice this PaymentIntent pays. */
  function invoiceLookups(paymentIntentId: string): number {
    return proxy
      .to('/v1/invoice_payments')
      .filter(
        (r) =>
          r.query.get('payment[type]') === 'payment_intent' &&
          r.query.get('payment[payment_intent]') === paymentIntentId,
      ).length;
  }

  async function receiptsOf(
    accountId: string,
  ): Promise<{ number: number; invoice: string | null; payment: string | null }[]> {
    return s.t.db.query(
      `SELECT r.number::int AS number, i.stripe_invoice_id AS invoice, p.stripe_payment_intent_id AS payment
         FROM receipts r
         LEFT JOIN invoices i ON i.id = r.invoice_id
         LEFT JOIN payments p ON p.id = r.payment_id
        WHERE r.account_id = $1 ORDER BY r.number`,
      [accountId],
    );
  }

  async function paymentRows(intents: string[]): Promise<number> {
    const rows = await s.t.db.query<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM payments WHERE stripe_payment_intent_id = ANY($1)`,
      [intents],
    );
    return rows[0]?.n ?? -1;
  }

  async function paidInvoiceMirrored(stripeInvoiceId: string): Promise<void> {
    await until(async () => {
      const rows = await s.t.db.query<unknown[]>(
        `SELECT 1 FROM invoices WHERE stripe_invoice_id = $1 AND status = 'paid'`,
        [stripeInvoiceId],
      );
      return rows.length === 1;
    }, `invoice ${stripeInvoiceId} mirrored as paid`);
  }

  async function listPayments(token: string): Promise<PaymentJson[]> {
    const res = await http<{ data: PaymentJson[] }>(s.t.url, 'GET', '/v1/payments?limit=100', { token });
    expect(res.status).toBe(200);
    return res.body.data;
  }

  it('three card-paid invoices of a subscription: one receipt and one e-mail each, numbered 1..3, and no payment', async () => {
    const start = Math.floor(Date.UTC(2032, 0, 15, 12) / 1000);
    const clock = await s.stripe.testHelpers.testClocks.create({ frozen_time: start });
    const a = await customer(clock.id);
    const sub = await s.stripe.subscriptions.create({ customer: a.customer, items: [{ price }] });
    // Each renewal: the draft a month on, finalized and charged by card an hour later. Webhooks come in
    // any order, so each invoice is seen paid before the next one is made: the paid order is known.
    await paidInvoiceMirrored(sub.latest_invoice as string);
    for (const month of [1, 2]) {
      await s.stripe.testHelpers.testClocks.advance(clock.id, {
        frozen_time: Math.floor(Date.UTC(2032, month, 15, 14) / 1000),
      });
      const renewed = await s.stripe.subscriptions.retrieve(sub.id);
      await paidInvoiceMirrored(renewed.latest_invoice as string);
    }
    const invoices = (await s.stripe.invoices.list({ subscription: sub.id, limit: 10 })).data.reverse();
    expect(invoices.map((i) => [i.status, i.amount_paid])).toEqual(Array(3).fill(['paid', 2900]));
    const intents: string[] = [];
    for (const invoice of invoices) intents.push(...(await intentsOf(invoice.id)));
    expect(intents).toHaveLength(3);

    // Every event of the invoices' PaymentIntents and charges found no payment: ignored, none failed.
    const events = await eventsAbout(intents);
    expect(new Set(events.map((e) => e.type))).toEqual(
      new Set(['payment_intent.created', 'charge.succeeded', 'payment_intent.succeeded']),
    );
    const rows = await settled(events);
    expect(rows.map((r) => [r.type, r.status, r.attempts])).toEqual(rows.map((r) => [r.type, 'ignored', 1]));
    // Stripe was asked about each PaymentIntent at least once and at most once per event of it: a webhook
    // run asks once, before its transaction, for all its events of one PaymentIntent, and which events
    // share a run is the intake's and the queue's doing (the next test pins a batch down); a charge's
    // event asks nothing.
    for (const pi of intents) {
      const ofIntent = events.filter(
        (e) => e.type.startsWith('payment_intent.') && (e.data.object as { id: string }).id === pi,
      ).length;
      const lookups = invoiceLookups(pi);
      expect({ pi, asked: lookups >= 1 && lookups <= ofIntent }).toEqual({ pi, asked: true });
    }

    // The receipts: the invoices' own, 1..3 in the order they were paid; no payment receipt.
    expect(await receiptsOf(a.accountId)).toEqual(
      invoices.map((invoice, i) => ({ number: i + 1, invoice: invoice.id, payment: null })),
    );
    // One e-mail per invoice.
    await mailsTo(s.smtp, a.billingEmail, 3);
    await outboxSettled(s.t, accountIds);
    const subjects = s.smtp.mails
      .filter((m) => m.to.includes(a.billingEmail))
      .map((m) => plain(decodeHeader(m.headers.subject ?? '')))
      .sort();
    expect(subjects).toEqual([1, 2, 3].map((n) => `Receipt #${n} from ${MERCHANT}: $29.00`));

    // No payment: not in the history, not in the mirror.
    expect(await listPayments(a.owner)).toEqual([]);
    expect(await paymentRows(intents)).toBe(0);

    // A refund of an invoice's charge made at Stripe: its events find no payment either and are ignored.
    const refund = await s.stripe.refunds.create({ payment_intent: intents[0]!, amount: 500 });
    const refundEvents = await until(async () => {
      const list = await eventsAbout([refund.id, intents[0]!]);
      const mine = list.filter(
        (e) => (e.data.object as { id: string }).id === refund.id || e.type === 'charge.refunded',
      );
      return mine.some((e) => e.type === 'refund.updated') ? mine : null;
    }, 'the refund settled at Stripe');
    expect(refundEvents.map((e) => e.type)).toEqual(
      expect.arrayContaining(['refund.created', 'charge.refunded', 'refund.updated']),
    );
    const refundRows = await settled(refundEvents);
    expect(refundRows.map((r) => r.status)).toEqual(refundRows.map(() => 'ignored'));
    const mirroredRefunds = await s.t.db.query<unknown[]>(
      `SELECT 1 FROM refunds WHERE stripe_refund_id = $1`,
      [refund.id],
    );
    expect(mirroredRefunds).toEqual([]);
    expect(await paymentRows(intents)).toBe(0);
  }, 90_000);

  it("an invoice PaymentIntent's events applied in one batch ask Stripe once, for all of them", async () => {
    const a = await customer();
    const sub = await s.stripe.subscriptions.create({ customer: a.customer, items: [{ price }] });
    const invoice = sub.latest_invoice as string;
    await paidInvoiceMirrored(invoice);
    const [pi] = await intentsOf(invoice);
    if (!pi) throw new Error('no PaymentIntent paid the invoice');
    // Every event so far applied: none of the customer's is still open to defer the batch's events.
    await allWebhooksSettled(s);
    const before = invoiceLookups(pi);
    // Its created and succeeded events again (as Stripe may redeliver them), stored and queued together.
    const intent = (await s.stripe.paymentIntents.retrieve(pi)) as unknown as Record<string, unknown>;
    const again = [
      stripeEvent('payment_intent.created', { ...intent, status: 'requires_payment_method' }),
      stripeEvent('payment_intent.succeeded', intent),
    ];
    await queueAsOneBatch(s.t, again);
    const rows = await settled(again as unknown as Stripe.Event[]);
    expect(rows.map((r) => [r.type, r.status, r.attempts])).toEqual(rows.map((r) => [r.type, 'ignored', 1]));
    expect(invoiceLookups(pi) - before).toBe(1);
    expect(await paymentRows([pi])).toBe(0);
  });

  it('a one-time payment made outside the app is still mirrored as a payment, with its receipt', async () => {
    const a = await customer();
    // Made at Stripe for the customer (e.g. in the dashboard): no metadata of ours.
    const pi = await s.stripe.paymentIntents.create({
      amount: 1500,
      currency: 'usd',
      customer: a.customer,
      payment_method: 'pm_card_visa',
      confirm: true,
    });
    expect(pi.status).toBe('succeeded');
    const rows = await settled(await eventsAbout([pi.id]));
    expect(rows.filter((r) => r.type === 'payment_intent.succeeded').map((r) => r.status)).toEqual([
      'processed',
    ]);
    const payments = await listPayments(a.owner);
    expect(payments).toEqual([
      expect.objectContaining({ stripePaymentIntentId: pi.id, status: 'succeeded', amount: 1500 }),
    ]);
    expect(await receiptsOf(a.accountId)).toEqual([{ number: 1, invoice: null, payment: pi.id }]);
    const [mail] = await mailsTo(s.smtp, a.billingEmail, 1);
    expect(plain(decodeHeader(mail?.headers.subject ?? ''))).toBe(`Receipt #1 from ${MERCHANT}: $15.00`);
    // It was asked about (before its first row was written); an event that finds the row asks nothing.
    const intentEvents = rows.filter((r) => r.type.startsWith('payment_intent.')).length;
    expect(invoiceLookups(pi.id)).toBeGreaterThanOrEqual(1);
    expect(invoiceLookups(pi.id)).toBeLessThanOrEqual(intentEvents);
  }, 60_000);

  it('a payment made through POST /v1/payments asks Stripe nothing about invoices, on its path or its webhooks', async () => {
    const a = await payingAccount(s, { locale: 'en-US', timeZone: 'UTC' });
    accountIds.push(a.accountId);
    const before = proxy.requests.length;
    const res = await http<PaymentJson>(s.t.url, 'POST', '/v1/payments', {
      token: a.owner,
      body: { amount: 2500, currency: 'usd', paymentMethodId: a.visa },
      headers: { 'idempotency-key': randomUUID() },
    });
    expect([res.status, res.body.status]).toEqual([201, 'succeeded']);
    // The request's one round trip to Stripe: the PaymentIntent.
    expect(proxy.requests.slice(before).map((r) => `${r.method} ${r.path.split('?')[0]}`)).toEqual([
      'POST /v1/payment_intents',
    ]);
    const pi = res.body.stripePaymentIntentId!;
    const rows = await settled(await eventsAbout([pi]));
    expect(rows.map((r) => r.status)).not.toContain('failed');
    expect(proxy.to('/v1/invoice_payments').filter((r) => proxy.requests.indexOf(r) >= before)).toEqual([]);
    expect(await listPayments(a.owner)).toEqual([
      expect.objectContaining({ id: res.body.id, stripePaymentIntentId: pi, status: 'succeeded' }),
    ]);
  }, 60_000);

  it('a payment-mode Checkout payment is filed under the session account without asking about invoices', async () => {
    const billingEmail = `guest-${randomUUID().slice(0, 8)}@example.test`;
    const accountId = await createAccountWith(s.t.url, s.admin, {
      locale: 'en-US',
      timeZone: 'UTC',
      billingEmail,
    });
    accountIds.push(accountId);
    const owner = await tokenFor({ sub: `owner-${randomUUID()}`, role: 'owner', accountId });
    // A customer of no account yet: only the session's client_reference_id names the account.
    const guest = await s.stripe.customers.create({ email: billingEmail });
    const product = await s.stripe.products.create({ name: 'One-off' });
    const oneOff = await s.stripe.prices.create({ product: product.id, unit_amount: 1234, currency: 'usd' });
    const session = await s.stripe.checkout.sessions.create({
      mode: 'payment',
      customer: guest.id,
      client_reference_id: accountId,
      line_items: [{ price: oneOff.id, quantity: 1 }],
      success_url: 'https://app.test/ok',
      cancel_url: 'https://app.test/cancel',
    });
    const done = await fetch(`${s.kit.emulator.url}/_emulator/checkout/${session.id}/complete`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'payment_method=pm_card_visa',
    });
    expect(done.status).toBeLessThan(400);
    const pi = (await s.stripe.checkout.sessions.retrieve(session.id)).payment_intent as string;
    const events = await eventsAbout([pi, session.id]);
    expect(events.map((e) => e.type)).toEqual(
      expect.arrayContaining(['payment_intent.succeeded', 'checkout.session.completed']),
    );
    const rows = await settled(events);
    expect(rows.find((r) => r.type === 'checkout.session.completed')?.status).toBe('processed');
    expect(await listPayments(owner)).toEqual([
      expect.objectContaining({ stripePaymentIntentId: pi, status: 'succeeded', amount: 1234 }),
    ]);
    expect(invoiceLookups(pi)).toBe(0);
  }, 60_000);

  it('when Stripe cannot say whether a PaymentIntent pays an invoice, the event is retried, never guessed', async () => {
    const a = await customer();
    proxy.failWhen = (r) => r.path.startsWith('/v1/invoice_payments');
    try {
      const sub = await s.stripe.subscriptions.create({ customer: a.customer, items: [{ price }] });
      const invoice = sub.latest_invoice as string;
      const [pi] = await intentsOf(invoice);
      const succeeded = (await eventsAbout([pi!])).find((e) => e.type === 'payment_intent.succeeded')!;
      // The lookup failed: the event is left for a retry with the reason, and nothing was written.
      const failed = await until(async () => {
        const [row] = await s.t.db.query<InboxRow[]>(
          `SELECT id, type, status, attempts, last_error FROM webhook_events WHERE id = $1`,
          [succeeded.id],
        );
        return row && row.attempts >= 1 && row.last_error ? row : null;
      }, 'the first attempt failed');
      expect(failed.status).not.toBe('dead');
      expect(failed.last_error).toContain('invoice_payment.list');
      expect(await paymentRows([pi!])).toBe(0);
      // Stripe answers again: the retry asks, learns the PaymentIntent is the invoice's, and ignores it.
      proxy.failWhen = null;
      const [row] = await settled([succeeded], 30_000);
      expect(row).toMatchObject({ status: 'ignored' });
      expect(row!.attempts).toBeGreaterThanOrEqual(2);
      expect(await paymentRows([pi!])).toBe(0);
      await paidInvoiceMirrored(invoice);
      expect(await receiptsOf(a.accountId)).toEqual([{ number: 1, invoice, payment: null }]);
    } finally {
      proxy.failWhen = null;
    }
  }, 60_000);
});
