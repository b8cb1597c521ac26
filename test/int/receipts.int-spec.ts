import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { getQueueToken } from '@nestjs/bull';
import type { Queue } from 'bull';
import { randomUUID } from 'node:crypto';
import type Stripe from 'stripe';
import { PaymentEventsHandler } from '../../apps/billing-api/src/modules/payments/webhooks/payment-events.handler.js';
import { ReceiptsFacade } from '../../apps/billing-api/src/modules/receipts/receipts.facade.js';
import { QUEUES } from '../../apps/billing-api/src/platform/queue/queue.registry.js';
import { http, tokenFor } from '../support/test-app.js';
import {
  accountWithCustomer,
  createAccountWith,
  payByCard,
  pdfText,
  plain,
  startPaymentsStack,
  type PaymentsStack,
} from './notifications.support.js';
import { webhooksSettled } from './payments-support.js';
import { decodeHeader, mailsTo, payingAccount, outboxSettled } from './receipts.support.js';
import { about, eventsOf, HandlerRunner, only } from './stripe-mirrors.support.js';
import { deliver, until } from './webhooks.support.js';

const MERCHANT = 'Acme Café GmbH';

// The whole path: the emulator delivers real signed events to the app, the payments mirror issues the
// receipt in the webhook transaction, the outbox job sends the e-mail to a real SMTP server.
describe('receipts: payment succeeded by webhook -> numbered receipt, PDF, e-mail once', () => {
  let s: PaymentsStack;
  let finance: string;
  // Only this suite's accounts: other suites share the database and leave their own outbox rows.
  const accountIds: string[] = [];

  beforeAll(async () => {
    s = await startPaymentsStack({
      EMAIL_FROM: 'Acme Billing <billing@acme.test>',
      MERCHANT_NAME: MERCHANT,
      MERCHANT_ADDRESS: 'Hauptstraße 1 | 10115 Berlin | Germany',
    });
    finance = await tokenFor({ sub: 'fin', role: 'finance' });
  }, 60_000);
  afterAll(async () => {
    await s?.close();
  });

  async function account(
    locale: string,
    timeZone: string,
  ): Promise<{ accountId: string; customer: string; billingEmail: string }> {
    const billingEmail = `billing-${randomUUID().slice(0, 8)}@example.test`;
    const accountId = await createAccountWith(s.t.url, s.admin, { locale, timeZone, billingEmail });
    accountIds.push(accountId);
    const customer = await s.stripe.customers.create({
      email: billingEmail,
      metadata: { account_id: accountId },
    });
    return { accountId, customer: customer.id, billingEmail };
  }

  async function pay(a: { accountId: string; customer: string }, amount: number, currency: string) {
    return s.stripe.paymentIntents.create({
      amount,
      currency,
      customer: a.customer,
      payment_method: 'pm_card_visa',
      confirm: true,
      metadata: { account_id: a.accountId },
    });
  }

  async function paymentId(intentId: string): Promise<string> {
    return until(async () => {
      const rows = await s.t.db.query<{ id: string }[]>(
        `SELECT p.id FROM payments p JOIN receipts r ON r.payment_id = p.id WHERE p.stripe_payment_intent_id = $1`,
        [intentId],
      );
      return rows[0]?.id;
    }, `receipt of ${intentId}`);
  }

  /** Waits for the card on the receipt (the charge may tell it after the PaymentIntent event). */
  async function cardOnReceipt(id: string): Promise<void> {
    await until(async () => {
      const rows = await s.t.db.query<{ b: string | null }[]>(
        `SELECT method_brand AS b FROM receipts WHERE payment_id = $1`,
        [id],
      );
      return rows[0]?.b;
    }, 'the card brand on the receipt');
  }

  /** The receipt PDF as served (compressed), checked to be one, and the text it shows. */
  async function receiptPdfText(id: string, token: string): Promise<string> {
    const response = await fetch(`${s.t.url}/v1/payments/${id}/receipt.pdf`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('application/pdf');
    const pdf = Buffer.from(await response.arrayBuffer());
    expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    return plain(pdfText(pdf));
  }

  async function receiptJson(id: string, token: string): Promise<Record<string, unknown>> {
    const json = await http<Record<string, unknown>>(s.t.url, 'GET', `/v1/payments/${id}/receipt`, { token });
    expect(json.status).toBe(200);
    return json.body;
  }

  it('issues receipt #1, serves it as JSON and PDF, e-mails it localized, and never twice', async () => {
    const a = await account('de-DE', 'Europe/Berlin');
    const other = await account('en-US', 'UTC');
    const intent = await pay(a, 123456, 'eur');
    expect(intent.status).toBe('succeeded');
    const id = await paymentId(intent.id);

    const owner = await tokenFor({ sub: 'owner-a', role: 'owner', accountId: a.accountId });
    const json = await receiptJson(id, owner);
    expect(json).toMatchObject({
      paymentId: id,
      accountId: a.accountId,
      number: 1,
      amount: 123456,
      currency: 'eur',
      merchant: { name: MERCHANT, address: ['Hauptstraße 1', '10115 Berlin', 'Germany'] },
    });
    expect(plain(String(json.formattedAmount))).toBe('1.234,56 €');

    // Another account's owner: 404; finance: any account.
    const stranger = await tokenFor({ sub: 'owner-b', role: 'owner', accountId: other.accountId });
    expect((await http(s.t.url, 'GET', `/v1/payments/${id}/receipt`, { token: stranger })).status).toBe(404);
    expect((await http(s.t.url, 'GET', `/v1/payments/${id}/receipt.pdf`, { token: stranger })).status).toBe(
      404,
    );
    expect((await http(s.t.url, 'GET', `/v1/payments/${id}/receipt`, { token: finance })).status).toBe(200);

    // The PDF: its text holds the number, the localized amount and the card (in detail: the next test).
    await cardOnReceipt(id);
    const text = await receiptPdfText(id, owner);
    expect(text).toContain('Receipt #1');
    expect(text).toContain('1.234,56 €');
    expect(text).toMatch(/visa ending in 4242/);

    // The e-mail: to the billing email, from EMAIL_FROM, amount in de-DE, no List-Unsubscribe (transactional).
    const billingEmail = (
      await s.t.db.query<{ e: string }[]>(`SELECT billing_email AS e FROM accounts WHERE id = $1`, [
        a.accountId,
      ])
    )[0]?.e;
    const mail = await s.smtp.waitFor((m) => m.to.includes(billingEmail ?? '-'), 'the receipt e-mail');
    expect(mail.from).toBe('billing@acme.test');
    // From the merchant, not from the account that paid.
    expect(plain(decodeHeader(mail.headers.subject ?? ''))).toBe(`Receipt #1 from ${MERCHANT}: 1.234,56 €`);
    expect(plain(mail.text)).toContain(`Thank you for your payment of 1.234,56 € to ${MERCHANT}.`);
    expect(plain(mail.text)).toContain('1.234,56 €');
    expect(plain(mail.text)).toContain('Receipt number: 1');
    expect(mail.headers['list-unsubscribe']).toBeUndefined();

    // Redelivery: the same signed event again, the mirror run again on the succeeded event (a newer
    // one), and the facade asked again: still one receipt, one outbox row, one e-mail.
    const succeeded = only(
      about(await eventsOf(s.stripe, ['payment_intent.succeeded']), intent.id),
      'succeeded event',
    );
    expect((await deliver(s.t.url, JSON.stringify(succeeded))).status).toBe(200);
    const handler = s.t.app.get(PaymentEventsHandler, { strict: false });
    await new HandlerRunner(s.t).run(
      (e, c) => handler.onPaymentIntent(e, c),
      succeeded,
      succeeded.created + 1,
    );
    const again = await s.t.db.transaction((manager) =>
      s.t.app.get(ReceiptsFacade, { strict: false }).issueForPayment(manager, {
        paymentId: id,
        accountId: a.accountId,
        amount: 123456,
        currency: 'eur',
        succeededAt: new Date(),
        methodBrand: null,
        methodLast4: null,
        description: null,
      }),
    );
    expect(again.number).toBe(1);
    await outboxSettled(s.t, accountIds);
    const rows = await s.t.db.query<{ n: number; status: string }[]>(
      `SELECT count(*)::int AS n, min(status) AS status FROM notifications WHERE dedupe_key = $1`,
      [`receipt:${id}`],
    );
    expect(rows[0]).toEqual({ n: 1, status: 'sent' });
    expect(
      (
        await s.t.db.query<{ n: number }[]>(`SELECT count(*)::int AS n FROM receipts WHERE payment_id = $1`, [
          id,
        ])
      )[0]?.n,
    ).toBe(1);
    expect(s.smtp.mails.filter((m) => m.to.includes(billingEmail ?? '-'))).toHaveLength(1);
  });

  it('the PDF names the merchant, number, local date, localized amount, card, and the refunds', async () => {
    // 00:30 UTC on 1 July is still 30 June in Los Angeles: a receipt dated in UTC would say "1. Juli".
    s.t.clock.set(new Date('2030-07-01T00:30:00Z'));
    const a = await account('de-DE', 'America/Los_Angeles');
    const owner = await tokenFor({ sub: `owner-${randomUUID()}`, role: 'owner', accountId: a.accountId });
    await paymentId((await pay(a, 500, 'eur')).id); // receipt #1, so that this one is #2
    const intent = await pay(a, 123456, 'eur');
    const id = await paymentId(intent.id);
    await cardOnReceipt(id);

    const text = await receiptPdfText(id, owner);
    expect(text).toMatch(/^Acme Café GmbH\nHauptstraße 1\n10115 Berlin\nGermany\nReceipt #2\n/);
    expect(text).toContain('\nDate: 30. Juni 2030 um 17:30 GMT-7\n');
    expect(text).not.toContain('Juli');
    expect(text).toMatch(/^Amount paid: 1\.234,56 €$/m);
    expect(text).toContain('\nPaid with: visa ending in 4242\n');
    expect(text).not.toContain('Refunds');

    // A partial refund through the API, listed with its local date and localized amount once Stripe
    // has confirmed it.
    await webhooksSettled(s, intent.id);
    const refund = await http(s.t.url, 'POST', `/v1/payments/${id}/refunds`, {
      token: finance,
      body: { amount: 23456, reason: 'requested_by_customer' },
      headers: { 'idempotency-key': randomUUID() },
    });
    expect(refund.status).toBe(201);
    await until(async () => {
      const rows = await s.t.db.query<{ status: string }[]>(
        `SELECT status FROM refunds WHERE payment_id = $1`,
        [id],
      );
      return rows[0]?.status === 'succeeded';
    }, 'the refund succeeded');
    const refunded = await receiptPdfText(id, owner);
    expect(refunded).toMatch(
      /^Amount paid: 1\.234,56 €\nRefunds\n30\. Juni 2030 um 17:30 GMT-7 +234,56 € +\(succeeded\)$/m,
    );
  }, 30_000);

  it.each([
    ['jpy', 1000, 'en-US', 'Asia/Tokyo', '¥1,000'],
    ['jpy', 1000, 'de-DE', 'Europe/Berlin', '1.000 ¥'],
    ['kwd', 12340, 'en-US', 'Asia/Kuwait', 'KWD 12.340'],
    ['kwd', 12340, 'de-DE', 'Europe/Berlin', '12,340 KWD'],
  ])(
    '%s %i, locale %s, zone %s: "%s" in the JSON, the PDF and the e-mail',
    async (currency, amount, locale, timeZone, shown) => {
      const a = await account(locale, timeZone);
      const owner = await tokenFor({ sub: `owner-${randomUUID()}`, role: 'owner', accountId: a.accountId });
      const intent = await pay(a, amount, currency);
      expect(intent.status).toBe('succeeded');
      const id = await paymentId(intent.id);
      await cardOnReceipt(id);

      const json = await receiptJson(id, owner);
      expect(json).toMatchObject({ number: 1, amount, currency });
      expect(plain(String(json.formattedAmount))).toBe(shown);
      // Anchored at the line's end: "¥1,000.00" or "KWD 12.34" would not do.
      const escaped = shown.replace(/[.$]/g, '\\$&');
      expect(await receiptPdfText(id, owner)).toMatch(new RegExp(`^Amount paid: ${escaped}$`, 'm'));
      const mail = await s.smtp.waitFor(
        (m) => m.to.includes(a.billingEmail),
        `the ${currency} receipt e-mail`,
      );
      expect(plain(decodeHeader(mail.headers.subject ?? ''))).toBe(`Receipt #1 from ${MERCHANT}: ${shown}`);
      expect(plain(mail.text)).toContain(`Thank you for your payment of ${shown} to ${MERCHANT}.`);
    },
    30_000,
  );

  it('200 concurrent POST /v1/payments of one account -> receipts 1..200, one per payment, one e-mail each', async () => {
    const a = await payingAccount(s, { locale: 'en-US', timeZone: 'America/New_York' });
    accountIds.push(a.accountId);
    const answers = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        http<{ id: string; status: string; amount: number }>(s.t.url, 'POST', '/v1/payments', {
          token: a.owner,
          body: { amount: 100 + i, currency: 'usd', paymentMethodId: a.visa },
          headers: { 'idempotency-key': randomUUID() },
        }),
      ),
    );
    expect(answers.map((r) => `${r.status} ${r.body.status}`)).toEqual(Array(200).fill('201 succeeded'));
    const paid = answers.map((r) => [r.body.id, r.body.amount] as const);
    expect(new Set(paid.map(([id]) => id)).size).toBe(200);

    // Numbers 1..200 without gap or repeat, each on its own payment with that payment's amount.
    const receipts = await until(async () => {
      const rows = await s.t.db.query<{ payment_id: string; number: string; amount: string }[]>(
        `SELECT payment_id, number, amount FROM receipts WHERE account_id = $1 ORDER BY number`,
        [a.accountId],
      );
      return rows.length >= 200 ? rows : null;
    }, '200 receipts');
    expect(receipts.map((r) => Number(r.number))).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    const byPayment = (x: readonly [string, number], y: readonly [string, number]) =>
      x[0].localeCompare(y[0]);
    expect(receipts.map((r) => [r.payment_id, Number(r.amount)] as const).sort(byPayment)).toEqual(
      [...paid].sort(byPayment),
    );
    const counter = await s.t.db.query<{ n: string }[]>(
      `SELECT last_number AS n FROM receipt_counters WHERE account_id = $1`,
      [a.accountId],
    );
    expect(Number(counter[0]?.n)).toBe(200);

    // One e-mail per receipt, carrying its number and payment, and no more once the outbox is drained.
    await mailsTo(s.smtp, a.billingEmail, 200, 45_000);
    await outboxSettled(s.t, accountIds);
    const mails = s.smtp.mails.filter((m) => m.to.includes(a.billingEmail));
    const mailed = mails
      .map((m) => [
        Number(/^Receipt number: (\d+)$/m.exec(m.text)?.[1]),
        /^Payment: ([0-9a-f-]{36})$/m.exec(m.text)?.[1],
      ])
      .sort((x, y) => Number(x[0]) - Number(y[0]));
    expect(mailed).toEqual(receipts.map((r) => [Number(r.number), r.payment_id]));
  }, 90_000);

  it('200 payments made at Stripe, their webhooks processed concurrently by the mirror -> receipts 1..200', async () => {
    const a = await account('en-US', 'America/New_York');
    const intents: Stripe.PaymentIntent[] = [];
    for (let batch = 0; batch < 10; batch++) {
      intents.push(
        ...(await Promise.all(Array.from({ length: 20 }, (_, i) => pay(a, 100 + batch * 20 + i, 'usd')))),
      );
    }
    expect(intents.every((i) => i.status === 'succeeded')).toBe(true);
    const numbers = await until(
      async () => {
        const rows = await s.t.db.query<{ number: string }[]>(
          `SELECT number FROM receipts WHERE account_id = $1 ORDER BY number`,
          [a.accountId],
        );
        return rows.length === 200 ? rows.map((r) => Number(r.number)) : null;
      },
      '200 receipts',
      120_000,
    );
    expect(numbers).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    const counter = await s.t.db.query<{ n: string }[]>(
      `SELECT last_number AS n FROM receipt_counters WHERE account_id = $1`,
      [a.accountId],
    );
    expect(Number(counter[0]?.n)).toBe(200);
    await outboxSettled(s.t, accountIds);
    const sent = await s.t.db.query<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM notifications WHERE account_id = $1 AND status = 'sent' AND template = 'payment_succeeded'`,
      [a.accountId],
    );
    expect(sent[0]?.n).toBe(200);
    const mails = s.smtp.mails.filter((m) => m.to.includes(a.billingEmail));
    expect(mails).toHaveLength(200);
    // The mailer keeps a small pool of SMTP connections instead of one connection per mail: at most 5
    // open at once (over the whole suite), each replaced after 100 messages (nodemailer's maxMessages),
    // so these 200 came over a handful of connections; one per mail would be 200.
    expect(s.smtp.maxOpen).toBeLessThanOrEqual(5);
    expect(new Set(mails.map((m) => m.connection)).size).toBeLessThan(20);
  }, 180_000);
});

/** The payment of a PaymentIntent once its receipt is issued. */
async function receiptedPayment(stack: PaymentsStack, intentId: string): Promise<string> {
  return until(async () => {
    const rows = await stack.t.db.query<{ id: string }[]>(
      `SELECT p.id FROM payments p JOIN receipts r ON r.payment_id = p.id WHERE p.stripe_payment_intent_id = $1`,
      [intentId],
    );
    return rows[0]?.id;
  }, `receipt of ${intentId}`);
}

/** A receipt as JSON and the text of its PDF, as `stack` serves them. */
async function servedReceipt(
  stack: PaymentsStack,
  paymentId: string,
  token: string,
): Promise<{ json: Record<string, unknown>; pdf: string }> {
  const json = await http<Record<string, unknown>>(stack.t.url, 'GET', `/v1/payments/${paymentId}/receipt`, {
    token,
  });
  expect(json.status).toBe(200);
  const pdf = await fetch(`${stack.t.url}/v1/payments/${paymentId}/receipt.pdf`, {
    headers: { authorization: `Bearer ${token}` },
  });
  expect(pdf.status).toBe(200);
  return { json: json.body, pdf: plain(pdfText(Buffer.from(await pdf.arrayBuffer()))) };
}

// A receipt is a document: the service restarted with the business renamed (another MERCHANT_NAME and
// MERCHANT_ADDRESS) changes no receipt issued before, neither its JSON, nor its PDF, nor its e-mail, even
// one still in the outbox across the restart; receipts issued after it name the new merchant.
describe('receipts keep the merchant they were issued by', () => {
  const OLD = { MERCHANT_NAME: 'Old Name GmbH', MERCHANT_ADDRESS: 'Alte Straße 1 | 10115 Berlin' };
  const NEW = { MERCHANT_NAME: 'New Name AG', MERCHANT_ADDRESS: 'Neuer Weg 2 | 80331 München' };
  let before: PaymentsStack | undefined;
  let after: PaymentsStack | undefined;
  afterAll(async () => {
    await before?.close();
    await after?.close();
  });

  const notificationsQueue = (stack: PaymentsStack): Queue =>
    stack.t.app.get<Queue>(getQueueToken(QUEUES.notifications), { strict: false });

  it('the old receipt shows the old merchant as JSON, PDF and e-mail after a restart; a new one the new', async () => {
    const finance = await tokenFor({ sub: 'fin-merchant', role: 'finance' });
    // One service started twice: the same database (this file's) and the same queues.
    const QUEUE_PREFIX = `billing-test-${randomUUID().slice(0, 8)}`;
    before = await startPaymentsStack({ ...OLD, QUEUE_PREFIX });
    // Paused in Redis (for every worker of these queues): the receipt's e-mail waits out the restart.
    await notificationsQueue(before).pause();
    const a = await accountWithCustomer(before, 'en-US', 'UTC');
    const oldIntent = await payByCard(before, a, 4200, 'usd');
    const oldId = await receiptedPayment(before, oldIntent.id);
    await until(async () => {
      const rows = await before?.t.db.query<{ n: number }[]>(
        `SELECT count(*)::int AS n FROM webhook_events WHERE status NOT IN ('processed', 'ignored')`,
      );
      return rows?.[0]?.n === 0;
    }, 'the webhook inbox drained');
    expect(before.smtp.mails.filter((m) => m.to.includes(a.billingEmail))).toHaveLength(0);
    await before.close();
    before = undefined;

    after = await startPaymentsStack({ ...NEW, QUEUE_PREFIX });
    const old = await servedReceipt(after, oldId, finance);
    expect(old.json).toMatchObject({
      paymentId: oldId,
      number: 1,
      merchant: { name: 'Old Name GmbH', address: ['Alte Straße 1', '10115 Berlin'] },
    });
    expect(old.pdf).toMatch(/^Old Name GmbH\nAlte Straße 1\n10115 Berlin\nReceipt #1\n/);
    expect(old.pdf).not.toMatch(/New Name|Neuer Weg/);
    await notificationsQueue(after).resume();
    const oldMail = await after.smtp.waitFor((m) => m.to.includes(a.billingEmail), 'the old receipt e-mail');
    expect(plain(decodeHeader(oldMail.headers.subject ?? ''))).toBe('Receipt #1 from Old Name GmbH: $42.00');
    expect(plain(oldMail.text)).toContain('Thank you for your payment of $42.00 to Old Name GmbH.');

    const b = await accountWithCustomer(after, 'en-US', 'UTC');
    const newId = await receiptedPayment(after, (await payByCard(after, b, 4200, 'usd')).id);
    const fresh = await servedReceipt(after, newId, finance);
    expect(fresh.json).toMatchObject({
      paymentId: newId,
      number: 1,
      merchant: { name: 'New Name AG', address: ['Neuer Weg 2', '80331 München'] },
    });
    expect(fresh.pdf).toMatch(/^New Name AG\nNeuer Weg 2\n80331 München\nReceipt #1\n/);
    const newMail = await after.smtp.waitFor((m) => m.to.includes(b.billingEmail), 'the new receipt e-mail');
    expect(plain(decodeHeader(newMail.headers.subject ?? ''))).toBe('Receipt #1 from New Name AG: $42.00');

    // A receipt issued before receipts kept their merchant (both columns null) shows the configured one.
    await after.t.db.query(
      `UPDATE receipts SET merchant_name = NULL, merchant_address = NULL WHERE payment_id = $1`,
      [oldId],
    );
    expect((await servedReceipt(after, oldId, finance)).json).toMatchObject({
      merchant: { name: 'New Name AG', address: ['Neuer Weg 2', '80331 München'] },
    });
  }, 90_000);
});
