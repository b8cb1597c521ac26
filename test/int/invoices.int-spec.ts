import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import type Stripe from 'stripe';
import { InvoiceEventsHandler } from '../../apps/billing-api/src/modules/invoices/webhooks/invoice-events.handler.js';
import { ReceiptsFacade } from '../../apps/billing-api/src/modules/receipts/receipts.facade.js';
import { startStripeWorld, type StripeWorld } from '../support/stripe-world.js';
import { http, tokenFor } from '../support/test-app.js';
import {
  createAccountWith,
  payByCard,
  pdfText,
  plain,
  startPaymentsStack,
  type PaymentsStack,
} from './notifications.support.js';
import { decodeHeader, mailsTo, outboxSettled } from './receipts.support.js';
import { about, eventsOf, HandlerRunner, only } from './stripe-mirrors.support.js';
import { createAccount, deliver, SECRET, until } from './webhooks.support.js';

const MERCHANT = 'Acme Cloud GmbH';

interface InvoiceJson {
  id: string | null;
  accountId: string;
  stripeInvoiceId: string;
  stripeSubscriptionId: string | null;
  number: string | null;
  status: string;
  total: number;
  amountPaid: number;
  formattedTotal: string;
  createdAt: string;
  receipt: { id: string; number: number; amount: number; currency: string } | null;
  source: 'mirror' | 'stripe';
}

interface ListJson {
  data: InvoiceJson[];
  has_more: boolean;
  next_cursor: string | null;
  creditBalance: {
    balance: number;
    credit: number;
    currency: string | null;
    formattedBalance: string | null;
  };
}

// The whole path: the emulator's subscriptions and test clocks make invoices, its signed webhooks reach
// the app, the invoice mirror issues receipts and the outbox mails them to a real SMTP server.
describe('invoices: list, detail, PDF, receipts of paid subscription invoices', () => {
  let s: PaymentsStack;
  let price: string;
  let finance: string;
  const accountIds: string[] = [];

  beforeAll(async () => {
    s = await startPaymentsStack({
      MERCHANT_NAME: MERCHANT,
      MERCHANT_ADDRESS: 'Hauptstraße 1 | 10115 Berlin',
    });
    finance = await tokenFor({ sub: 'fin', role: 'finance' });
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
  });

  interface Customer {
    accountId: string;
    customer: string;
    billingEmail: string;
    owner: string;
    member: string;
  }

  /** An account whose Stripe customer (linked by metadata, optionally on a test clock) pays by Visa. */
  async function customer(
    options: { locale?: string; timeZone?: string; clock?: string } = {},
  ): Promise<Customer> {
    const billingEmail = `billing-${randomUUID().slice(0, 8)}@example.test`;
    const accountId = await createAccountWith(s.t.url, s.admin, {
      locale: options.locale ?? 'en-US',
      timeZone: options.timeZone ?? 'UTC',
      billingEmail,
    });
    accountIds.push(accountId);
    const created = await s.stripe.customers.create({
      email: billingEmail,
      metadata: { account_id: accountId },
      ...(options.clock ? { test_clock: options.clock } : {}),
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
    return {
      accountId,
      customer: created.id,
      billingEmail,
      owner: await tokenFor({ sub: `owner-${randomUUID()}`, role: 'owner', accountId }),
      member: await tokenFor({ sub: `member-${randomUUID()}`, role: 'member', accountId }),
    };
  }

  /** The mirror row of a Stripe invoice once it is paid (and its receipt issued in that transaction). */
  async function paidInvoice(stripeInvoiceId: string): Promise<string> {
    return until(async () => {
      const rows = await s.t.db.query<{ id: string }[]>(
        `SELECT id FROM invoices WHERE stripe_invoice_id = $1 AND status = 'paid'`,
        [stripeInvoiceId],
      );
      return rows[0]?.id;
    }, `invoice ${stripeInvoiceId} mirrored as paid`);
  }

  async function receiptNumbers(accountId: string): Promise<{ number: number; of: string }[]> {
    return s.t.db.query(
      `SELECT number::int AS number, CASE WHEN invoice_id IS NULL THEN 'payment' ELSE 'invoice' END AS of
         FROM receipts WHERE account_id = $1 ORDER BY number`,
      [accountId],
    );
  }

  async function pdfOf(
    path: string,
    token: string,
  ): Promise<{ status: number; type: string | null; text: string }> {
    const response = await fetch(`${s.t.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
    const body = Buffer.from(await response.arrayBuffer());
    const isPdf = body.subarray(0, 5).toString('latin1') === '%PDF-';
    return {
      status: response.status,
      type: response.headers.get('content-type'),
      text: isPdf ? plain(pdfText(body)) : body.toString('utf8'),
    };
  }

  it('numbers a paid subscription invoice after the payment receipt of its account, and mails it once even when invoice.paid comes twice', async () => {
    const a = await customer();
    // Receipt 1: a one-time payment.
    const intent = await payByCard(s, a, 1500, 'usd');
    expect(intent.status).toBe('succeeded');
    await until(async () => (await receiptNumbers(a.accountId)).length === 1, 'the payment receipt');

    // Receipt 2: the subscription's first invoice, sent to the customer and paid by bank transfer
    // (out of band: no PaymentIntent, so nothing but the invoice can give it a receipt).
    const sub = await s.stripe.subscriptions.create({
      customer: a.customer,
      items: [{ price }],
      collection_method: 'send_invoice',
      days_until_due: 30,
    });
    const stripeInvoiceId = sub.latest_invoice as string;
    expect((await s.stripe.invoices.retrieve(stripeInvoiceId)).status).toBe('open');
    await s.stripe.invoices.pay(stripeInvoiceId, { paid_out_of_band: true });
    const invoiceId = await paidInvoice(stripeInvoiceId);
    expect(await receiptNumbers(a.accountId)).toEqual([
      { number: 1, of: 'payment' },
      { number: 2, of: 'invoice' },
    ]);

    // The e-mail: the receipt number, the merchant, the amount, the invoice's number.
    const stripeInvoice = await s.stripe.invoices.retrieve(stripeInvoiceId);
    const mails = await mailsTo(s.smtp, a.billingEmail, 2);
    const subjects = mails.map((m) => plain(decodeHeader(m.headers.subject ?? '')));
    expect([...subjects].sort()).toEqual([
      `Receipt #1 from ${MERCHANT}: $15.00`,
      `Receipt #2 from ${MERCHANT}: $29.00`,
    ]);
    const mail = mails[subjects.indexOf(`Receipt #2 from ${MERCHANT}: $29.00`)];
    expect(plain(mail?.text ?? '')).toContain(`Thank you for your payment of $29.00 to ${MERCHANT}.`);
    expect(mail?.text).toContain('Receipt number: 2');
    expect(mail?.text).toContain(`Invoice: ${stripeInvoice.number}`);

    // invoice.paid delivered again (a new delivery of the same signed event), then applied again as a
    // newer event, then the facade asked again: one receipt, one outbox row, one e-mail.
    const paid = only(about(await eventsOf(s.stripe, ['invoice.paid']), stripeInvoiceId), 'invoice.paid');
    expect((await deliver(s.t.url, JSON.stringify(paid))).status).toBe(200);
    const handler = s.t.app.get(InvoiceEventsHandler, { strict: false });
    expect(await new HandlerRunner(s.t).run((e, c) => handler.onInvoice(e, c), paid, paid.created + 1)).toBe(
      'applied',
    );
    const again = await s.t.db.transaction((manager) =>
      s.t.app.get(ReceiptsFacade, { strict: false }).issueForInvoice(manager, {
        invoiceId,
        accountId: a.accountId,
        invoiceNumber: null,
        amount: 2900,
        currency: 'usd',
        paidAt: new Date(),
        periodStart: null,
        periodEnd: null,
      }),
    );
    expect(again.number).toBe(2);
    await outboxSettled(s.t, accountIds);
    const rows = await s.t.db.query<{ n: number; status: string }[]>(
      `SELECT count(*)::int AS n, min(status) AS status FROM notifications WHERE dedupe_key = $1`,
      [`receipt:invoice:${invoiceId}`],
    );
    expect(rows[0]).toEqual({ n: 1, status: 'sent' });
    expect(await receiptNumbers(a.accountId)).toHaveLength(2);
    expect(s.smtp.mails.filter((m) => m.to.includes(a.billingEmail))).toHaveLength(2);

    // The invoice shows its receipt.
    const detail = await http<InvoiceJson>(s.t.url, 'GET', `/v1/invoices/${invoiceId}`, { token: a.owner });
    expect(detail.status).toBe(200);
    expect(detail.body.receipt).toMatchObject({ number: 2, amount: 2900, currency: 'usd' });
  }, 60_000);

  describe('three monthly invoices on a test clock', () => {
    let a: Customer;
    let stranger: Customer;
    let invoices: { id: string; stripeInvoiceId: string }[];

    beforeAll(async () => {
      const start = Math.floor(Date.UTC(2031, 0, 15, 12) / 1000);
      const clock = await s.stripe.testHelpers.testClocks.create({ frozen_time: start });
      a = await customer({ clock: clock.id, locale: 'de-DE', timeZone: 'Europe/Berlin' });
      stranger = await customer();
      const sub = await s.stripe.subscriptions.create({ customer: a.customer, items: [{ price }] });
      // Each renewal: the draft a month on, finalized and charged an hour later. Webhooks come in any
      // order: each invoice is seen paid before the next is made, so their receipts follow the paid order.
      await paidInvoice(sub.latest_invoice as string);
      for (const month of [1, 2]) {
        await s.stripe.testHelpers.testClocks.advance(clock.id, {
          frozen_time: Math.floor(Date.UTC(2031, month, 15, 14) / 1000),
        });
        await paidInvoice((await s.stripe.subscriptions.retrieve(sub.id)).latest_invoice as string);
      }
      const stripeInvoices = (await s.stripe.invoices.list({ subscription: sub.id, limit: 10 })).data;
      if (stripeInvoices.length !== 3) throw new Error(`${stripeInvoices.length} invoices, not 3`);
      invoices = [];
      for (const invoice of stripeInvoices) {
        invoices.push({ id: await paidInvoice(invoice.id), stripeInvoiceId: invoice.id });
      }
    }, 60_000);

    it('lists them newest first in cursor pages, filtered by status and creation time', async () => {
      const first = await http<ListJson>(s.t.url, 'GET', '/v1/invoices?limit=2', { token: a.owner });
      expect(first.status).toBe(200);
      expect(first.body.has_more).toBe(true);
      expect(first.body.data).toHaveLength(2);
      const second = await http<ListJson>(
        s.t.url,
        'GET',
        `/v1/invoices?limit=2&cursor=${first.body.next_cursor}`,
        { token: a.owner },
      );
      expect(second.status).toBe(200);
      expect(second.body).toMatchObject({ has_more: false, next_cursor: null });
      const all = [...first.body.data, ...second.body.data];
      expect(all.map((i) => i.stripeInvoiceId)).toEqual(invoices.map((i) => i.stripeInvoiceId));
      const created = all.map((i) => Date.parse(i.createdAt));
      expect([...created].sort((x, y) => y - x)).toEqual(created);
      expect(all.map((i) => [i.status, i.total, i.accountId, i.source])).toEqual(
        Array(3).fill(['paid', 2900, a.accountId, 'mirror']),
      );
      expect(all.map((i) => plain(i.formattedTotal))).toEqual(Array(3).fill('29,00 $'));
      // Each paid by card has its receipt, numbered in the order they were paid (newest: highest): 1..3,
      // as the invoice's PaymentIntent is the invoice's, not a payment with a receipt of its own.
      expect(all.map((i) => i.receipt?.number ?? 0)).toEqual([3, 2, 1]);

      const paid = await http<ListJson>(s.t.url, 'GET', '/v1/invoices?status=paid,void', { token: a.owner });
      expect(paid.body.data).toHaveLength(3);
      const open = await http<ListJson>(s.t.url, 'GET', '/v1/invoices?status=open', { token: a.owner });
      expect(open.body.data).toEqual([]);
      const from = all[1]!.createdAt;
      const recent = await http<ListJson>(s.t.url, 'GET', `/v1/invoices?createdFrom=${from}`, {
        token: a.owner,
      });
      expect(recent.body.data.map((i) => i.stripeInvoiceId)).toEqual(
        invoices.slice(0, 2).map((i) => i.stripeInvoiceId),
      );
      const before = await http<ListJson>(s.t.url, 'GET', `/v1/invoices?createdTo=${from}`, {
        token: a.owner,
      });
      expect(before.body.data.map((i) => i.stripeInvoiceId)).toEqual([invoices[2]!.stripeInvoiceId]);

      for (const bad of [
        'limit=0',
        'limit=101',
        'status=lost',
        'createdFrom=2026-13',
        'cursor=not!a!cursor',
      ]) {
        const refused = await http<{ error: { code: string } }>(s.t.url, 'GET', `/v1/invoices?${bad}`, {
          token: a.owner,
        });
        expect([bad, refused.status, refused.body.error.code]).toEqual([bad, 400, 'validation_failed']);
      }
      const forged = Buffer.from(JSON.stringify(['yesterday', 'x'])).toString('base64url');
      expect((await http(s.t.url, 'GET', `/v1/invoices?cursor=${forged}`, { token: a.owner })).status).toBe(
        400,
      );
    });

    it('serves one invoice by either id and its PDF; members 403, other accounts 404, internal roles any', async () => {
      const newest = invoices[0]!;
      const byOurs = await http<InvoiceJson>(s.t.url, 'GET', `/v1/invoices/${newest.id}`, { token: a.owner });
      const byStripe = await http<InvoiceJson>(s.t.url, 'GET', `/v1/invoices/${newest.stripeInvoiceId}`, {
        token: a.owner,
      });
      expect(byOurs.status).toBe(200);
      expect(byStripe.body).toEqual(byOurs.body);
      expect(byOurs.body).toMatchObject({ id: newest.id, status: 'paid', source: 'mirror' });
      const receiptNumber = byOurs.body.receipt?.number;
      expect(receiptNumber).toBeGreaterThan(0);

      const stripeInvoice = await s.stripe.invoices.retrieve(newest.stripeInvoiceId);
      const pdf = await pdfOf(`/v1/invoices/${newest.id}.pdf`, a.owner);
      expect(pdf.status).toBe(200);
      expect(pdf.type).toContain('application/pdf');
      expect(pdf.text).toMatch(
        new RegExp(`^${MERCHANT}\\nHauptstraße 1\\n10115 Berlin\\nInvoice #${stripeInvoice.number}\\n`),
      );
      // Created 15 March 2031 at 12:00 UTC (the renewal's draft), 13:00 in Berlin.
      expect(pdf.text).toContain('\nDate: 15. März 2031 um 13:00 MEZ\n');
      expect(pdf.text).toContain(`\nInvoice: ${newest.stripeInvoiceId}\n`);
      expect(pdf.text).toMatch(
        /^Period: 15\. Februar 2031 um \d\d:\d\d MEZ – 15\. März 2031 um \d\d:\d\d MEZ$/m,
      );
      expect(pdf.text).toMatch(/^Status: paid$/m);
      expect(pdf.text).toMatch(/^Total: 29,00 \$$/m);
      expect(pdf.text).toMatch(/^Amount paid: 29,00 \$$/m);
      expect(pdf.text).toMatch(/^Amount remaining: 0,00 \$$/m);
      expect(pdf.text).toMatch(new RegExp(`^Receipt #${receiptNumber}$`, 'm'));
      expect((await pdfOf(`/v1/invoices/${newest.stripeInvoiceId}.pdf`, a.owner)).text).toBe(pdf.text);

      // A member of the account: refused, as for payments.
      for (const path of ['/v1/invoices', `/v1/invoices/${newest.id}`, `/v1/invoices/${newest.id}.pdf`]) {
        const refused = await http<{ error: { code: string } }>(s.t.url, 'GET', path, { token: a.member });
        expect([path, refused.status, refused.body.error.code]).toEqual([path, 403, 'forbidden']);
      }
      // Another account's owner: 404 for each id, and for a list of the account.
      for (const path of [
        `/v1/invoices/${newest.id}`,
        `/v1/invoices/${newest.stripeInvoiceId}`,
        `/v1/invoices/${newest.id}.pdf`,
        `/v1/invoices/${newest.stripeInvoiceId}.pdf`,
        `/v1/invoices?accountId=${a.accountId}`,
      ]) {
        const hidden = await http<{ error: { code: string } }>(s.t.url, 'GET', path, {
          token: stranger.owner,
        });
        expect([path, hidden.status, hidden.body.error.code]).toEqual([path, 404, 'not_found']);
      }
      const own = await http<ListJson>(s.t.url, 'GET', '/v1/invoices', { token: stranger.owner });
      expect(own.body.data).toEqual([]);
      // Unknown ids of either kind, and what is neither: 404.
      for (const id of [randomUUID(), 'in_doesnotexist', 'nonsense']) {
        expect((await http(s.t.url, 'GET', `/v1/invoices/${id}`, { token: a.owner })).status).toBe(404);
      }

      // Finance (and support, admin): any account, the list by accountId.
      expect((await http(s.t.url, 'GET', '/v1/invoices', { token: finance })).status).toBe(400);
      const listed = await http<ListJson>(s.t.url, 'GET', `/v1/invoices?accountId=${a.accountId}`, {
        token: finance,
      });
      expect(listed.body.data).toHaveLength(3);
      const support = await tokenFor({ sub: 'sup', role: 'support' });
      expect((await http(s.t.url, 'GET', `/v1/invoices/${newest.id}`, { token: support })).status).toBe(200);
      expect((await pdfOf(`/v1/invoices/${newest.stripeInvoiceId}.pdf`, finance)).text).toBe(pdf.text);
    });

    it('reads an invoice older than the two years the mirror serves from Stripe, and the list no longer shows it', async () => {
      const oldest = invoices[2]!;
      const mirrored = await http<InvoiceJson>(s.t.url, 'GET', `/v1/invoices/${oldest.id}`, {
        token: a.owner,
      });
      const newest = await http<InvoiceJson>(s.t.url, 'GET', `/v1/invoices/${invoices[0]!.id}`, {
        token: a.owner,
      });
      const realNow = s.t.clock.now();
      try {
        // 800 days (two years and more, with 2032's 29 February) after the newest invoice: all three are
        // out of the mirror's window.
        s.t.clock.set(new Date(Date.parse(newest.body.createdAt) + 800 * 86_400_000));
        const listed = await http<ListJson>(s.t.url, 'GET', '/v1/invoices', { token: a.owner });
        expect(listed.body.data.map((i) => i.stripeInvoiceId)).toEqual([]);

        const fromStripe = await http<InvoiceJson>(s.t.url, 'GET', `/v1/invoices/${oldest.id}`, {
          token: a.owner,
        });
        expect(fromStripe.status).toBe(200);
        expect(fromStripe.body).toEqual({ ...mirrored.body, source: 'stripe' });
        const byStripeId = await http<InvoiceJson>(s.t.url, 'GET', `/v1/invoices/${oldest.stripeInvoiceId}`, {
          token: a.owner,
        });
        expect(byStripeId.body.source).toBe('stripe');
        const pdf = await pdfOf(`/v1/invoices/${oldest.stripeInvoiceId}.pdf`, a.owner);
        expect(pdf.status).toBe(200);
        expect(pdf.text).toMatch(/^Total: 29,00 \$$/m);
        expect(pdf.text).toMatch(new RegExp(`^Receipt #${mirrored.body.receipt?.number}$`, 'm'));
        // Still another account's: 404 after the read.
        expect(
          (await http(s.t.url, 'GET', `/v1/invoices/${oldest.stripeInvoiceId}`, { token: stranger.owner }))
            .status,
        ).toBe(404);
      } finally {
        s.t.clock.set(realNow);
      }
    });
  });

  it("shows the customer's credit balance from the mirror of customer.updated", async () => {
    const a = await customer();
    const before = await http<ListJson>(s.t.url, 'GET', '/v1/invoices', { token: a.owner });
    expect(before.body.creditBalance).toEqual({
      balance: 0,
      credit: 0,
      currency: null,
      formattedBalance: null,
    });
    const sub = await s.stripe.subscriptions.create({ customer: a.customer, items: [{ price }] });
    await paidInvoice(sub.latest_invoice as string);
    await s.stripe.customers.createBalanceTransaction(a.customer, { amount: -750, currency: 'usd' });
    const shown = await until(async () => {
      const list = await http<ListJson>(s.t.url, 'GET', '/v1/invoices', { token: a.owner });
      return list.body.creditBalance.balance !== 0 && list.body;
    }, 'the credit balance shown');
    expect(shown.creditBalance).toEqual({
      balance: -750,
      credit: 750,
      currency: 'usd',
      formattedBalance: '-$7.50',
    });
    expect(shown.data).toHaveLength(1);
    const forFinance = await http<ListJson>(s.t.url, 'GET', `/v1/invoices?accountId=${a.accountId}`, {
      token: finance,
    });
    expect(forFinance.body.creditBalance.credit).toBe(750);
  }, 30_000);
});

// The app hears of customers only: no invoice is ever mirrored, and each is read from Stripe on demand.
describe('invoices: an invoice that was never mirrored is read from Stripe', () => {
  let w: StripeWorld;

  beforeAll(async () => {
    w = await startStripeWorld({ secret: SECRET, events: ['customer.created', 'customer.updated'] });
  }, 60_000);
  afterAll(async () => {
    await w?.close();
  });

  it("shows the account's invoice read from Stripe, and 404 to another account", async () => {
    const accountId = await createAccount(w.t.url, w.admin);
    const other = await createAccount(w.t.url, w.admin);
    const customer = await w.stripe.customers.create({
      email: 'o@example.test',
      metadata: { account_id: accountId },
    });
    await until(async () => {
      const rows = await w.t.db.query<{ c: string | null }[]>(
        `SELECT stripe_customer_id AS c FROM accounts WHERE id = $1`,
        [accountId],
      );
      return rows[0]?.c === customer.id;
    }, 'the customer linked');
    const pm = await w.stripe.paymentMethods.attach('pm_card_visa', { customer: customer.id });
    const product = await w.stripe.products.create({ name: 'Business' });
    const price = await w.stripe.prices.create({
      product: product.id,
      unit_amount: 9900,
      currency: 'eur',
      recurring: { interval: 'year' },
    });
    const sub: Stripe.Subscription = await w.stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: price.id }],
      default_payment_method: pm.id,
    });
    const stripeInvoiceId = sub.latest_invoice as string;
    const owner = await tokenFor({ sub: 'o', role: 'owner', accountId });
    const list = await http<ListJson>(w.t.url, 'GET', '/v1/invoices', { token: owner });
    expect(list.body.data).toEqual([]);
    expect(
      (
        await w.t.db.query<unknown[]>(`SELECT 1 FROM invoices WHERE stripe_invoice_id = $1`, [
          stripeInvoiceId,
        ])
      ).length,
    ).toBe(0);

    const read = await http<InvoiceJson>(w.t.url, 'GET', `/v1/invoices/${stripeInvoiceId}`, { token: owner });
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({
      id: null,
      accountId,
      stripeInvoiceId,
      stripeSubscriptionId: sub.id,
      status: 'paid',
      total: 9900,
      amountPaid: 9900,
      receipt: null,
      source: 'stripe',
    });
    // Shown, not stored.
    expect(
      (
        await w.t.db.query<unknown[]>(`SELECT 1 FROM invoices WHERE stripe_invoice_id = $1`, [
          stripeInvoiceId,
        ])
      ).length,
    ).toBe(0);
    const response = await fetch(`${w.t.url}/v1/invoices/${stripeInvoiceId}.pdf`, {
      headers: { authorization: `Bearer ${owner}` },
    });
    expect(response.status).toBe(200);
    expect(plain(pdfText(Buffer.from(await response.arrayBuffer())))).toMatch(/^Total: €99\.00$/m);

    const stranger = await tokenFor({ sub: 's', role: 'owner', accountId: other });
    expect((await http(w.t.url, 'GET', `/v1/invoices/${stripeInvoiceId}`, { token: stranger })).status).toBe(
      404,
    );
    expect(
      (await http(w.t.url, 'GET', `/v1/invoices/${stripeInvoiceId}.pdf`, { token: stranger })).status,
    ).toBe(404);
    const admin = await http<InvoiceJson>(w.t.url, 'GET', `/v1/invoices/${stripeInvoiceId}`, {
      token: w.admin,
    });
    expect(admin.body.accountId).toBe(accountId);
  }, 30_000);
});
