import { freePort } from '../support/stripe-world.js';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { getQueueToken } from '@nestjs/bull';
import type { Queue } from 'bull';
import { randomUUID } from 'node:crypto';
import type Stripe from 'stripe';
import { PaymentEventsHandler } from '../../apps/billing-api/src/modules/payments/webhooks/payment-events.handler.js';
import { ReceiptsFacade } from '../../apps/billing-api/src/modules/receipts/receipts.facade.js';
import { QUEUES } from '../../apps/billing-api/src/platform/queue/queue.registry.js';
import { startTestEmulator, type TestEmulator } from '../../apps/stripe-emulator/src/core/test-kit.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { http, startTestApp, tokenFor, type TestApp } from '../support/test-app.js';
import { createAccountWith, pdfText, plain, TestSmtpServer } from './notifications.support.js';
import { about, eventsOf, HandlerRunner, only } from './stripe-mirrors.support.js';
import { deliver, SECRET, until } from './webhooks.support.js';

// The whole path: the emulator delivers real signed events to the app, the payments mirror issues the
// receipt in the webhook transaction, the outbox job sends the e-mail to a real SMTP server.
describe('receipts: payment succeeded by webhook -> numbered receipt, PDF, e-mail once', () => {
  let kit: TestEmulator;
  let t: TestApp;
  let proxy: TcpProxy;
  let smtp: TestSmtpServer;
  let stripe: Stripe;
  let admin: string;
  const key = `sk_test_${randomUUID().replace(/-/g, '')}`;
  // Only this suite's accounts: other suites share the database and leave their own outbox rows.
  const accountIds: string[] = [];

  beforeAll(async () => {
    smtp = new TestSmtpServer();
    const smtpUrl = await smtp.start();
    const port = await freePort();
    kit = await startTestEmulator({
      webhookUrl: `http://127.0.0.1:${port}/webhooks/stripe`,
      webhookSecret: SECRET,
    });
    t = await startTestApp({
      role: 'all',
      env: {
        STRIPE_API_BASE: kit.emulator.url,
        STRIPE_SECRET_KEY: key,
        STRIPE_WEBHOOK_SECRETS: SECRET,
        SMTP_URL: smtpUrl,
        EMAIL_FROM: 'Acme Billing <billing@acme.test>',
      },
    });
    proxy = new TcpProxy('127.0.0.1', Number(new URL(t.url).port));
    await proxy.start(port);
    stripe = kit.client({ key }).stripe;
    admin = await tokenFor({ sub: 'admin-1', role: 'admin' });
  });
  afterAll(async () => {
    await proxy?.stop();
    await t?.close();
    await kit?.close();
    await smtp?.close();
  });

  async function account(
    locale: string,
    timeZone: string,
  ): Promise<{ accountId: string; customer: string; billingEmail: string }> {
    const billingEmail = `billing-${randomUUID().slice(0, 8)}@example.test`;
    const accountId = await createAccountWith(t.url, admin, { locale, timeZone, billingEmail });
    accountIds.push(accountId);
    const customer = await stripe.customers.create({
      email: billingEmail,
      metadata: { account_id: accountId },
    });
    return { accountId, customer: customer.id, billingEmail };
  }

  async function pay(a: { accountId: string; customer: string }, amount: number, currency: string) {
    return stripe.paymentIntents.create({
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
      const rows = await t.db.query<{ id: string }[]>(
        `SELECT p.id FROM payments p JOIN receipts r ON r.payment_id = p.id WHERE p.stripe_payment_intent_id = $1`,
        [intentId],
      );
      return rows[0]?.id;
    }, `receipt of ${intentId}`);
  }

  async function outboxSettled(): Promise<void> {
    const queue = t.app.get<Queue>(getQueueToken(QUEUES.notifications), { strict: false });
    await until(async () => {
      const counts = await queue.getJobCounts();
      const pending = await t.db.query<{ n: number }[]>(
        `SELECT count(*)::int AS n FROM notifications WHERE status = 'pending' AND account_id = ANY($1)`,
        [accountIds],
      );
      return counts.waiting + counts.active + counts.delayed === 0 && pending[0]?.n === 0;
    }, 'the notification outbox drained');
  }

  it('issues receipt #1, serves it as JSON and PDF, e-mails it localized, and never twice', async () => {
    const a = await account('de-DE', 'Europe/Berlin');
    const other = await account('en-US', 'UTC');
    const intent = await pay(a, 123456, 'eur');
    expect(intent.status).toBe('succeeded');
    const id = await paymentId(intent.id);

    const owner = await tokenFor({ sub: 'owner-a', role: 'owner', accountId: a.accountId });
    const json = await http<Record<string, unknown>>(t.url, 'GET', `/v1/payments/${id}/receipt`, {
      token: owner,
    });
    expect(json.status).toBe(200);
    expect(json.body).toMatchObject({
      paymentId: id,
      accountId: a.accountId,
      number: 1,
      amount: 123456,
      currency: 'eur',
    });

    // Another account's owner: 404; finance: any account.
    const stranger = await tokenFor({ sub: 'owner-b', role: 'owner', accountId: other.accountId });
    expect((await http(t.url, 'GET', `/v1/payments/${id}/receipt`, { token: stranger })).status).toBe(404);
    expect((await http(t.url, 'GET', `/v1/payments/${id}/receipt.pdf`, { token: stranger })).status).toBe(
      404,
    );
    const finance = await tokenFor({ sub: 'fin', role: 'finance' });
    expect((await http(t.url, 'GET', `/v1/payments/${id}/receipt`, { token: finance })).status).toBe(200);

    // The PDF (compressed, as served): its text holds the number, the localized amount and the card.
    await until(async () => {
      const rows = await t.db.query<{ b: string | null }[]>(
        `SELECT method_brand AS b FROM receipts WHERE payment_id = $1`,
        [id],
      );
      return rows[0]?.b;
    }, 'the card brand on the receipt');
    const response = await fetch(`${t.url}/v1/payments/${id}/receipt.pdf`, {
      headers: { authorization: `Bearer ${owner}` },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('application/pdf');
    const pdf = Buffer.from(await response.arrayBuffer());
    expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    const text = plain(pdfText(pdf));
    expect(text).toContain('Receipt #1');
    expect(text).toContain('1.234,56 €');
    expect(text).toMatch(/visa ending in 4242/);

    // The e-mail: to the billing email, from EMAIL_FROM, amount in de-DE, no List-Unsubscribe (transactional).
    const billingEmail = (
      await t.db.query<{ e: string }[]>(`SELECT billing_email AS e FROM accounts WHERE id = $1`, [
        a.accountId,
      ])
    )[0]?.e;
    const mail = await smtp.waitFor((m) => m.to.includes(billingEmail ?? '-'), 'the receipt e-mail');
    expect(mail.from).toBe('billing@acme.test');
    expect(plain(mail.text)).toContain('1.234,56 €');
    expect(plain(mail.text)).toContain('Receipt number: 1');
    expect(mail.headers['list-unsubscribe']).toBeUndefined();

    // Redelivery: the same signed event again, the mirror run again on the succeeded event (a newer
    // one), and the facade asked again: still one receipt, one outbox row, one e-mail.
    const succeeded = only(
      about(await eventsOf(stripe, ['payment_intent.succeeded']), intent.id),
      'succeeded event',
    );
    expect((await deliver(t.url, JSON.stringify(succeeded))).status).toBe(200);
    const handler = t.app.get(PaymentEventsHandler, { strict: false });
    await new HandlerRunner(t).run((e, c) => handler.onPaymentIntent(e, c), succeeded, succeeded.created + 1);
    const again = await t.db.transaction((manager) =>
      t.app.get(ReceiptsFacade, { strict: false }).issueForPayment(manager, {
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
    await outboxSettled();
    const rows = await t.db.query<{ n: number; status: string }[]>(
      `SELECT count(*)::int AS n, min(status) AS status FROM notifications WHERE dedupe_key = $1`,
      [`receipt:${id}`],
    );
    expect(rows[0]).toEqual({ n: 1, status: 'sent' });
    expect(
      (
        await t.db.query<{ n: number }[]>(`SELECT count(*)::int AS n FROM receipts WHERE payment_id = $1`, [
          id,
        ])
      )[0]?.n,
    ).toBe(1);
    expect(smtp.mails.filter((m) => m.to.includes(billingEmail ?? '-'))).toHaveLength(1);
  });

  it('200 concurrent successful payments of one account (real events through the mirror) -> receipts 1..200', async () => {
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
        const rows = await t.db.query<{ number: string }[]>(
          `SELECT number FROM receipts WHERE account_id = $1 ORDER BY number`,
          [a.accountId],
        );
        return rows.length === 200 ? rows.map((r) => Number(r.number)) : null;
      },
      '200 receipts',
      120_000,
    );
    expect(numbers).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    const counter = await t.db.query<{ n: string }[]>(
      `SELECT last_number AS n FROM receipt_counters WHERE account_id = $1`,
      [a.accountId],
    );
    expect(Number(counter[0]?.n)).toBe(200);
    await outboxSettled();
    const sent = await t.db.query<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM notifications WHERE account_id = $1 AND status = 'sent' AND template = 'payment_succeeded'`,
      [a.accountId],
    );
    expect(sent[0]?.n).toBe(200);
    // The mailer keeps a small pool of SMTP connections instead of one connection per mail.
    const mails = smtp.mails.filter((m) => m.to.includes(a.billingEmail));
    expect(mails).toHaveLength(200);
    expect(new Set(mails.map((m) => m.connection)).size).toBeLessThanOrEqual(5);
  }, 180_000);
});
