import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { ScanRemindersHandler } from '../../apps/billing-api/src/modules/notifications/commands/scan-reminders/scan-reminders.handler.js';
import { http } from '../support/test-app.js';
import {
  setDefaultCard,
  stepsOf,
  stripeRetriesOff,
  subscriptionRow,
  suspendedRenewal,
  type TimelineStep,
} from './dunning.support.js';
import { startGuardedSample, type GuardedSample } from './guard-samples.support.js';
import {
  notificationsSent,
  plain,
  startPaymentsStack,
  type PaymentsStack,
  type ReceivedMail,
} from './notifications.support.js';
import { createCatalogue } from './stripe-mirrors.support.js';
import { until } from './webhooks.support.js';

/** Where the accounts of `createAccount` get their mail. */
const BILLING_EMAIL = 'billing@example.test';

/** The e-mail of each step and of the reactivation, as an en-US account's billing contact reads it. */
const SUBJECTS: Record<TimelineStep | 'reactivated', RegExp> = {
  day_0: /^Payment of \$29\.00 failed$/u,
  day_3: /^Reminder: payment of \$29\.00 is still due$/u,
  day_5: /^Urgent: .*becomes read-only on /u,
  day_7: /is read-only until \$29\.00 is paid$/u,
  reactivated: /is active again$/u,
};
const TEMPLATES: Record<TimelineStep | 'reactivated', string> = {
  day_0: 'payment_failed_1',
  day_3: 'payment_failed_2',
  day_5: 'payment_failed_3',
  day_7: 'account_suspended',
  reactivated: 'account_reactivated',
};
const DUNNING_TEMPLATES = Object.values(TEMPLATES);

// Issues #19/#20 joined on the real path: a renewal that fails on a Stripe test clock, the dunning
// module's steps, the notifications module's e-mails as the SMTP server receives them, and the guard
// package in a sample app reading the verdict the suspension and the reactivation produce.
describe('dunning end to end: the e-mails of the timeline and the guard in a sample app', () => {
  let s: PaymentsStack;
  let prices: Awaited<ReturnType<typeof createCatalogue>>;
  let sample: GuardedSample;

  beforeAll(async () => {
    // The sample's receiver listens on this machine: allowed as a private target for the test only.
    s = await startPaymentsStack({ INTEGRATIONS_ALLOW_PRIVATE_TARGETS: 'true' });
    await s.t.db.query(`UPDATE billing_settings SET rollout_percent = 100`);
    await stripeRetriesOff(s);
    prices = await createCatalogue(s.stripe);
    sample = await startGuardedSample(s, 'nest');
  }, 120_000);
  afterAll(async () => {
    await sample?.close();
    await s?.close();
  });

  const subjectOf = (m: ReceivedMail): string => plain(m.subject);
  const dunningMails = (): ReceivedMail[] =>
    s.smtp.mails.filter(
      (m) => m.to.includes(BILLING_EMAIL) && Object.values(SUBJECTS).some((re) => re.test(subjectOf(m))),
    );
  const call = (method: 'GET' | 'POST', accountId: string) =>
    http<{ error?: { code: string } }>(sample.app.url, method, '/projects', {
      headers: { 'x-account-id': accountId },
      ...(method === 'GET' ? {} : { body: {} }),
    });

  it('delivers payment_failed_1/2/3, account_suspended and account_reactivated once each with the pay-now link; the guard refuses changes while suspended', async () => {
    const received: string[] = [];
    /** Waits for the e-mail of `what`, checks it, and that no other dunning e-mail came with it. */
    const expectMail = async (what: TimelineStep | 'reactivated'): Promise<ReceivedMail> => {
      const mail = await s.smtp.waitFor(
        (m) => m.to.includes(BILLING_EMAIL) && SUBJECTS[what].test(subjectOf(m)),
        `the ${what} e-mail`,
        30_000,
      );
      received.push(what);
      expect(dunningMails().map(subjectOf)).toHaveLength(received.length);
      expect(mail.headers['content-type']).toMatch(/^multipart\/alternative;/u);
      expect(mail.text.length).toBeGreaterThan(50);
      expect(mail.html).toContain('<!DOCTYPE html>');
      return mail;
    };

    /** What the sample answered to a change after each step. */
    const changes: Record<string, number> = {};
    const { a, sub, invoice } = await suspendedRenewal(s, prices, async (step, r) => {
      const mail = await expectMail(step);
      // The pay-now action is the failed invoice's hosted page, in both parts.
      expect(r.invoice.hosted_invoice_url).toMatch(/^https?:\/\//u);
      expect(mail.text).toContain(`Pay now: ${r.invoice.hosted_invoice_url}`);
      expect(mail.html).toContain(`href="${r.invoice.hosted_invoice_url}"`);
      // (Not while the suspension commits: the event that follows it is what the next check awaits.)
      if (step !== 'day_7') changes[step] = (await call('POST', r.a.accountId)).status;
    });
    // Past due: the sample lets changes through (and caches that verdict for ten minutes).
    expect(changes).toEqual({ day_0: 201, day_3: 201, day_5: 201 });

    // Suspended: the signed entitlements.updated event clears the sample's cached verdict (its TTL is
    // ten minutes), so a change is refused with account_suspended and a read passes.
    const refused = await until(async () => {
      const res = await call('POST', a.accountId);
      return res.status === 403 ? res : null;
    }, 'the sample to refuse a change of the suspended account');
    expect(refused.body.error).toMatchObject({ code: 'account_suspended' });
    const read = await call('GET', a.accountId);
    expect(read.status).toBe(200);
    expect(read.headers.get('x-billing-decision')).toBe('entitled');

    // A working card as the default: retried at once, paid, active, the reactivation e-mail.
    await setDefaultCard(s, a, 'pm_card_visa');
    await until(async () => (await subscriptionRow(s, sub)).state === 'active', 'active again');
    expect((await s.stripe.invoices.retrieve(invoice.id)).status).toBe('paid');
    await expectMail('reactivated');
    // Nothing left to pay, and no step left pending.
    const pay = await http<{ error?: { code: string } }>(
      s.t.url,
      'POST',
      '/v1/subscription/pay-outstanding',
      {
        token: a.owner,
        headers: { 'idempotency-key': randomUUID() },
      },
    );
    expect(pay.status).toBe(409);
    expect(pay.body.error).toMatchObject({ code: 'no_outstanding_invoice' });
    expect((await stepsOf(s, invoice.id)).map((x) => x.status)).toEqual(['done', 'done', 'done', 'done']);

    // The sample sees full access again through the next signed event.
    const allowed = await until(async () => {
      const res = await call('POST', a.accountId);
      return res.status === 201 ? res : null;
    }, 'the sample to allow a change after the reactivation');
    expect(allowed.headers.get('x-billing-decision')).toBe('entitled');

    // Every e-mail of the account sent, and each dunning one received exactly once, in order.
    // The receipt of the recovered invoice comes from its invoice.paid, which may land after the case closed.
    const receipts = (): ReceivedMail[] =>
      s.smtp.mails.filter((m) => m.to.includes(BILLING_EMAIL) && /^Receipt #/u.test(subjectOf(m)));
    await until(async () => receipts().length >= 2, 'the receipt of the recovered invoice');
    // The reminder scan runs now (as its schedule would): it judges this account by its test clock's
    // time (2031), whose cards do not expire before the next renewal: no card_expiring (R-DUN-6).
    expect((await s.t.app.get(ScanRemindersHandler, { strict: false }).scan()).cardExpiring).toBe(0);
    const rows = await notificationsSent(s, a.accountId);
    // The dunning e-mails, and the receipts of the first invoice and of the recovered one: nothing else.
    const templates = rows.map((r) => r.template);
    expect(templates.sort()).toEqual([...DUNNING_TEMPLATES, 'invoice_paid', 'invoice_paid'].sort());
    expect(s.smtp.mails.filter((m) => m.to.includes(BILLING_EMAIL))).toHaveLength(templates.length);
    expect(receipts()).toHaveLength(2);
    expect(received).toEqual(['day_0', 'day_3', 'day_5', 'day_7', 'reactivated']);
    expect(dunningMails()).toHaveLength(5);
  }, 180_000);
});
