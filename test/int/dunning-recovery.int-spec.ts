import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import type Stripe from 'stripe';
import { http, tokenFor } from '../support/test-app.js';
import {
  accountOnClock,
  advanceTo,
  DAY,
  failedRenewal,
  HOUR,
  setDefaultCard,
  stepsAre,
  stepsOf,
  stripeRetriesOff,
  subscriptionRow,
  verdictOf,
  type ClockAccount,
} from './dunning.support.js';
import {
  notificationsSent,
  plain,
  startPaymentsStack,
  type PaymentsStack,
  type ReceivedMail,
} from './notifications.support.js';
import { createCatalogue } from './stripe-mirrors.support.js';
import { until } from './webhooks.support.js';

/** Where the accounts of `createAccount` (failedRenewal) get their mail. */
const BILLING_EMAIL = 'billing@example.test';
/** The reactivation of a case closed before any suspension (R-DUN-4). */
const REACTIVATED = /^Payment of \$29\.00 received: .* is in good standing$/u;

// R-DUN-4 on the real path, recovery without a new default card: the card networks reissue the failing
// card (`payment_method.automatically_updated`), or the customer's bank now approves the same card and the
// owner pays the open invoice (`POST /v1/subscription/pay-outstanding`); and Day 0 on a clock far from now.
describe('dunning recovery on a Stripe test clock: the card networks, pay-outstanding, Day 0 on the clock', () => {
  let s: PaymentsStack;
  let prices: Awaited<ReturnType<typeof createCatalogue>>;

  beforeAll(async () => {
    s = await startPaymentsStack();
    await stripeRetriesOff(s);
    prices = await createCatalogue(s.stripe);
  }, 120_000);
  afterAll(async () => {
    await s?.close();
  });

  const emulator = (path: string): Promise<Response> =>
    fetch(`${s.kit.emulator.url}${path}`, { method: 'POST' });
  const defaultCardOf = async (a: ClockAccount): Promise<string> => {
    const customer = (await s.stripe.customers.retrieve(a.customerId)) as Stripe.Customer;
    const pm = customer.invoice_settings.default_payment_method;
    if (typeof pm !== 'string') throw new Error('the customer has no default card');
    return pm;
  };
  /** The reactivation e-mails received about this invoice (its id is in the mail's facts). */
  const reactivationMails = (invoiceId: string): ReceivedMail[] =>
    s.smtp.mails.filter(
      (m) => m.to.includes(BILLING_EMAIL) && REACTIVATED.test(plain(m.subject)) && m.text.includes(invoiceId),
    );
  const auditCount = async (accountId: string, action: string): Promise<number> =>
    (
      await s.t.db.query<{ n: number }[]>(
        `SELECT count(*)::int AS n FROM audit_log WHERE account_id = $1 AND action = $2`,
        [accountId, action],
      )
    )[0]?.n ?? 0;
  /** Waits until the app recorded the test clock's time (its `test_clock.ready` applied). */
  const clockRecorded = (a: ClockAccount, at: number): Promise<unknown> =>
    until(async () => {
      const rows = await s.t.db.query<{ t: Date }[]>(
        `SELECT frozen_time AS t FROM dunning_test_clocks WHERE test_clock_id = $1`,
        [a.clockId],
      );
      return (rows[0]?.t.getTime() ?? 0) >= at * 1000;
    }, 'the clock time recorded');

  it('the card networks reissue the failing default card on Day 1: retried at once, paid, case closed, one reactivation e-mail, full access', async () => {
    const { a, sub, invoice, day0 } = await failedRenewal(s, prices);
    await stepsAre(s, invoice.id, { day_0: 'done', day_3: 'pending', day_5: 'pending', day_7: 'pending' });
    await until(async () => (await subscriptionRow(s, sub)).state === 'past_due', 'past_due on Day 0');
    await until(async () => (await verdictOf(s, a)).dunningStage?.stage === 'past_due', 'the past_due stage');
    await advanceTo(s, a, day0 + DAY);

    // The networks give the default card (the attach-then-fail 0341) a new number and expiry: the same
    // payment method, now a card that is approved. Stripe tells the app with automatically_updated only.
    const card = await defaultCardOf(a);
    const nextYear = new Date().getUTCFullYear() + 4;
    const updated = await emulator(
      `/_emulator/payment_methods/${card}/automatically_update?number=4242424242424242&exp_month=8&exp_year=${nextYear}`,
    );
    expect(updated.status).toBe(200);

    // The retry runs at once (not on Day 3): paid, the case closed, active again.
    await stepsAre(s, invoice.id, { day_0: 'done', day_3: 'canceled', day_5: 'canceled', day_7: 'canceled' });
    await until(async () => (await subscriptionRow(s, sub)).state === 'active', 'active again');
    const paid = await s.stripe.invoices.retrieve(invoice.id);
    expect(paid).toMatchObject({ status: 'paid', attempt_count: 2 });
    const retried = await s.t.db.query<
      { after: { outcome: string; paymentMethodId: string }; reason: string }[]
    >(`SELECT after, reason FROM audit_log WHERE account_id = $1 AND action = 'dunning.payment_retried'`, [
      a.accountId,
    ]);
    expect(retried).toEqual([
      {
        after: { outcome: 'succeeded', paymentMethodId: card },
        reason: 'payment_method_automatically_updated',
      },
    ]);
    const closed = await s.t.db.query<{ status: string; outcome: string; suspended_at: Date | null }[]>(
      `SELECT status, outcome, suspended_at FROM dunning_cases WHERE stripe_invoice_id = $1`,
      [invoice.id],
    );
    expect(closed).toEqual([{ status: 'closed', outcome: 'paid', suspended_at: null }]);
    // The saved card's mirror shows the reissued card.
    await until(async () => {
      const rows = await s.t.db.query<{ last4: string; exp_year: number }[]>(
        `SELECT card_last4 AS last4, card_exp_year AS exp_year FROM payment_methods WHERE stripe_payment_method_id = $1`,
        [card],
      );
      return rows[0]?.last4 === '4242' && rows[0].exp_year === nextYear;
    }, 'the reissued card mirrored');

    // Full access, no dunning stage; one reactivation e-mail, and the outbox has exactly one.
    const full = await until(async () => {
      const v = await verdictOf(s, a);
      return v.accessMode === 'full' && v.dunningStage === null && v.state === 'active' ? v : null;
    }, 'the full verdict again');
    expect(full.banners.map((b) => b.kind)).not.toContain('past_due');
    await s.smtp.waitFor(
      (m) => REACTIVATED.test(plain(m.subject)) && m.text.includes(invoice.id),
      'the reactivation e-mail',
      30_000,
    );
    const rows = await notificationsSent(s, a.accountId);
    expect(rows.filter((r) => r.template === 'account_reactivated')).toHaveLength(1);
    expect(rows.filter((r) => r.template.startsWith('payment_failed_')).map((r) => r.template)).toEqual([
      'payment_failed_1',
    ]);

    // The clock goes past Day 7: nothing more runs, nothing more is sent or charged.
    await advanceTo(s, a, day0 + 8 * DAY);
    await clockRecorded(a, day0 + 8 * DAY);
    expect((await stepsOf(s, invoice.id)).map((x) => [x.step_id, x.status, x.ran_at === null])).toEqual([
      ['day_0', 'done', false],
      ['day_3', 'canceled', true],
      ['day_5', 'canceled', true],
      ['day_7', 'canceled', true],
    ]);
    expect(await auditCount(a.accountId, 'dunning.step_ran')).toBe(1);
    expect((await s.stripe.invoices.retrieve(invoice.id)).attempt_count).toBe(2);
    expect((await subscriptionRow(s, sub)).state).toBe('active');
    expect(reactivationMails(invoice.id)).toHaveLength(1);
  }, 180_000);

  it('pay-outstanding alone recovers on Day 2 once the same default card is approved: case closed, pending steps canceled and never run as the clock passes them', async () => {
    const { a, sub, invoice, day0 } = await failedRenewal(s, prices);
    await stepsAre(s, invoice.id, { day_0: 'done', day_3: 'pending', day_5: 'pending', day_7: 'pending' });
    await until(async () => (await subscriptionRow(s, sub)).state === 'past_due', 'past_due on Day 0');
    await advanceTo(s, a, day0 + 2 * DAY);
    const card = await defaultCardOf(a);

    const payOutstanding = (key: string) =>
      http<{ invoices?: { stripeInvoiceId: string }[]; error?: { code: string } }>(
        s.t.url,
        'POST',
        '/v1/subscription/pay-outstanding',
        { token: a.owner, headers: { 'idempotency-key': key } },
      );
    // Still declined: the case stays open with its schedule.
    const declined = await payOutstanding(randomUUID());
    expect(declined.status).toBe(402);
    expect((await stepsOf(s, invoice.id)).map((x) => x.status)).toEqual([
      'done',
      'pending',
      'pending',
      'pending',
    ]);

    // The bank now approves the same card (no new card, no Stripe event): pay-outstanding pays the invoice.
    expect((await emulator(`/_emulator/payment_methods/${card}/charges?outcome=succeed`)).status).toBe(200);
    const key = randomUUID();
    const paid = await payOutstanding(key);
    expect(paid.status).toBe(200);
    expect(paid.body.invoices?.map((i) => i.stripeInvoiceId)).toEqual([invoice.id]);
    expect(await defaultCardOf(a)).toBe(card);

    await stepsAre(s, invoice.id, { day_0: 'done', day_3: 'canceled', day_5: 'canceled', day_7: 'canceled' });
    await until(async () => (await subscriptionRow(s, sub)).state === 'active', 'active again');
    expect((await s.stripe.invoices.retrieve(invoice.id)).status).toBe('paid');
    const closed = await s.t.db.query<{ status: string; outcome: string }[]>(
      `SELECT status, outcome FROM dunning_cases WHERE stripe_invoice_id = $1`,
      [invoice.id],
    );
    expect(closed).toEqual([{ status: 'closed', outcome: 'paid' }]);
    await until(async () => (await verdictOf(s, a)).accessMode === 'full', 'full access');
    await s.smtp.waitFor(
      (m) => REACTIVATED.test(plain(m.subject)) && m.text.includes(invoice.id),
      'the reactivation e-mail',
      30_000,
    );
    // The same request again answers the first outcome; nothing is charged twice.
    const again = await payOutstanding(key);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(paid.body);

    // Day 3, 5 and 7 pass on the clock: the canceled steps never run, nothing is retried or sent.
    await advanceTo(s, a, day0 + 3 * DAY + 60);
    await clockRecorded(a, day0 + 3 * DAY + 60);
    await advanceTo(s, a, day0 + 8 * DAY);
    await clockRecorded(a, day0 + 8 * DAY);
    expect((await stepsOf(s, invoice.id)).map((x) => [x.step_id, x.status, x.ran_at === null])).toEqual([
      ['day_0', 'done', false],
      ['day_3', 'canceled', true],
      ['day_5', 'canceled', true],
      ['day_7', 'canceled', true],
    ]);
    expect(await auditCount(a.accountId, 'dunning.step_ran')).toBe(1);
    expect((await s.stripe.invoices.retrieve(invoice.id)).attempt_count).toBe(3);
    expect((await subscriptionRow(s, sub)).state).toBe('active');
    expect((await verdictOf(s, a)).dunningStage).toBeNull();
    const rows = await notificationsSent(s, a.accountId);
    expect(rows.filter((r) => r.template === 'account_reactivated')).toHaveLength(1);
    expect(rows.filter((r) => r.template.startsWith('payment_failed_'))).toHaveLength(1);
    expect(reactivationMails(invoice.id)).toHaveLength(1);
  }, 180_000);

  it('past_due_since is the failed attempt time on the test clock (set years from now), not the time the webhook arrived', async () => {
    // A clock in 2044, at an odd minute: the renewal is drafted a month on and charged an hour later.
    const start = Math.floor(Date.UTC(2044, 2, 10, 8, 17) / 1000);
    const attemptAt = Math.floor(Date.UTC(2044, 3, 10, 9, 17) / 1000);
    const a = await accountOnClock(s, start);
    await setDefaultCard(s, a, 'pm_card_visa');
    const created = await s.stripe.subscriptions.create({
      customer: a.customerId,
      items: [{ price: prices.proMonth }],
    });
    await until(
      async () => (await subscriptionRow(s, created.id).catch(() => null))?.state === 'active',
      'active',
    );
    await setDefaultCard(s, a, 'pm_card_chargeCustomerFail');
    // The clock stops well after the attempt (a day and a half), and the webhooks arrive on real time.
    await advanceTo(s, a, attemptAt + DAY + 12 * HOUR);
    const invoiceId = (await s.stripe.subscriptions.retrieve(created.id)).latest_invoice as string;
    const failedCharge = (await s.stripe.charges.list({ customer: a.customerId, limit: 10 })).data.find(
      (c) => c.status === 'failed',
    );
    // The attempt's own time at Stripe: the failed charge, on the clock.
    expect(failedCharge?.created).toBe(attemptAt);

    await stepsAre(s, invoiceId, { day_0: 'done', day_3: 'pending', day_5: 'pending', day_7: 'pending' });
    await until(async () => (await subscriptionRow(s, created.id)).state === 'past_due', 'past_due');
    const row = await subscriptionRow(s, created.id);
    expect(row.past_due_since).toEqual(new Date(attemptAt * 1000));
    expect(Math.abs(Date.now() - attemptAt * 1000)).toBeGreaterThan(10 * 365 * DAY * 1000);
    // The same Day 0 wherever it is read: the subscription API, the verdict, the case's timeline.
    const support = await tokenFor({ sub: 'support-dunning', role: 'support' });
    const view = await http<{ pastDueSince: string | null; state: string }>(
      s.t.url,
      'GET',
      `/v1/subscription?accountId=${a.accountId}`,
      { token: support },
    );
    expect(view.status).toBe(200);
    expect(view.body).toMatchObject({
      state: 'past_due',
      pastDueSince: new Date(attemptAt * 1000).toISOString(),
    });
    const verdict = await until(async () => {
      const v = await verdictOf(s, a);
      return v.dunningStage?.lastStep === 'day_0' ? v : null;
    }, 'the Day 0 stage');
    expect(verdict.dunningStage).toMatchObject({
      day0: new Date(attemptAt * 1000).toISOString(),
      nextStep: { id: 'day_3', dueAt: new Date((attemptAt + 3 * DAY) * 1000).toISOString() },
    });
    // Day 3 is due by the clock (three days after the attempt), not three days after the webhook.
    await advanceTo(s, a, attemptAt + 3 * DAY + 60);
    const steps = await stepsAre(s, invoiceId, {
      day_0: 'done',
      day_3: 'done',
      day_5: 'pending',
      day_7: 'pending',
    });
    expect(steps[1]).toMatchObject({
      due_at: new Date((attemptAt + 3 * DAY) * 1000),
      retry_outcome: 'failed',
    });
    expect((await subscriptionRow(s, created.id)).past_due_since).toEqual(new Date(attemptAt * 1000));
  }, 180_000);
});
