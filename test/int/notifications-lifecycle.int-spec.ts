import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { ScanRemindersHandler } from '../../apps/billing-api/src/modules/notifications/commands/scan-reminders/scan-reminders.handler.js';
import { ExpiringCardsQueries } from '../../apps/billing-api/src/modules/notifications/queries/expiring-cards.queries.js';
import {
  dunningAccountSuspended,
  dunningCaseClosed,
  dunningStepRan,
  type DunningCaseRef,
} from '../../apps/billing-api/src/modules/dunning/contracts/dunning.events.js';
import type { DomainEvent } from '../../apps/billing-api/src/platform/events/domain-event.js';
import { DomainEvents } from '../../apps/billing-api/src/platform/events/domain-events.js';
import { launchBrowser } from '../support/browser.js';
import { customerOnClock } from '../support/stripe-world.js';
import { http, tokenFor } from '../support/test-app.js';
import {
  accountWithCustomer,
  createAccountWith,
  plain,
  startPaymentsStack,
  type PaymentsStack,
  type ReceivedMail,
} from './notifications.support.js';
import { until } from './webhooks.support.js';

const BILLING_APP_URL = 'https://app.example.test/billing';

// R-NOT-2/3, R-DUN-1..4/6, R-EDGE-1/3: the lifecycle e-mails as the SMTP server receives them (text and
// HTML parts), from the listeners of the dunning and subscription events, Stripe's test clock and the
// reminder scan.
describe('lifecycle e-mails: HTML + text, localized, once per cause', () => {
  let s: PaymentsStack;

  beforeAll(async () => {
    s = await startPaymentsStack({ CATALOG_SYNC_ON_START: 'true', BILLING_APP_URL });
  });
  afterAll(async () => {
    await s?.close();
  });

  /** Publishes events as their module does: in one transaction. */
  const publish = (...events: DomainEvent[]) =>
    s.t.db.transaction((manager) => s.t.app.get(DomainEvents, { strict: false }).publish(manager, events));

  /** Every outbox row of the account is sent: its mails, and the outbox rows (template, dedupe key). */
  async function settled(accountId: string, email: string) {
    const rows = await until(async () => {
      const found = await s.t.db.query<{ template: string; dedupe_key: string; status: string }[]>(
        `SELECT template, dedupe_key, status FROM notifications WHERE account_id = $1 ORDER BY dedupe_key`,
        [accountId],
      );
      return found.every((r) => r.status === 'sent') ? found : null;
    }, 'every e-mail of the account sent');
    const mails = await until(async () => {
      const got = s.smtp.mails.filter((m) => m.to.includes(email));
      return got.length >= rows.length ? got : null;
    }, 'every sent e-mail received');
    return { rows, mails };
  }

  const mailWith = (email: string, subject: RegExp, what: string): Promise<ReceivedMail> =>
    s.smtp.waitFor((m) => m.to.includes(email) && subject.test(subjectOf(m)), what, 30_000);

  const subjectOf = (m: ReceivedMail): string => plain(m.subject);

  it('dunning notices in de-DE with Asia/Tokyo dates: three escalating, suspension, reactivation; one per cause', async () => {
    const a = await accountWithCustomer(s, 'de-DE', 'Asia/Tokyo');
    const ref = (caseId: string): DunningCaseRef => ({
      caseId,
      accountId: a.accountId,
      subscriptionId: null,
      stripeInvoiceId: `in_${caseId}`,
      amountDue: 4900,
      currency: 'eur',
      hostedInvoiceUrl: `https://invoice.stripe.test/i/${caseId}`,
    });
    const suspendAt = '2026-11-28T16:00:00.000Z';
    const step = (
      caseId: string,
      stepId: string,
      day: number,
      template: string | null,
      next: string | null,
    ) =>
      dunningStepRan({
        ...ref(caseId),
        stepId,
        dayOffset: day,
        template: template as 'payment_failed_1' | null,
        retried: day > 0,
        retryOutcome: day > 0 ? 'failed' : null,
        ranAt: new Date(Date.parse('2026-11-21T16:00:00.000Z') + day * 86_400_000).toISOString(),
        nextStepAt: next,
        suspendAt,
      });
    const caseA = randomUUID();
    const caseB = randomUUID();
    // Day 0 of case A, delivered twice (a step re-run publishes again): one e-mail.
    await publish(step(caseA, 'day_0', 0, 'payment_failed_1', '2026-11-24T16:00:00.000Z'));
    await publish(step(caseA, 'day_0', 0, 'payment_failed_1', '2026-11-24T16:00:00.000Z'));
    // Another cause (another unpaid invoice): its own e-mail.
    await publish(step(caseB, 'day_0', 0, 'payment_failed_1', '2026-11-24T16:00:00.000Z'));
    await publish(step(caseA, 'day_3', 3, 'payment_failed_2', '2026-11-26T16:00:00.000Z'));
    await publish(step(caseA, 'day_5', 5, 'payment_failed_3', suspendAt));
    // The suspension, announced by its step and by the suspension event, in one transaction and again.
    const suspended = dunningAccountSuspended({ ...ref(caseA), suspendedAt: suspendAt });
    await publish(step(caseA, 'day_7', 7, 'account_suspended', null), suspended);
    await publish(suspended);
    // Closed without payment (voided): nothing; closed paid: the reactivation e-mail.
    const closed = { ...ref(caseB), wasSuspended: false, closedAt: '2026-11-23T00:00:00.000Z' };
    await publish(dunningCaseClosed({ ...closed, outcome: 'voided' }));
    await publish(
      dunningCaseClosed({
        ...ref(caseA),
        outcome: 'paid',
        wasSuspended: true,
        closedAt: '2026-11-29T03:00:00.000Z',
      }),
    );

    const { rows, mails } = await settled(a.accountId, a.billingEmail);
    expect(rows.map((r) => r.dedupe_key).sort()).toEqual(
      [
        `payment_failed_1:${caseA}`,
        `payment_failed_1:${caseB}`,
        `payment_failed_2:${caseA}`,
        `payment_failed_3:${caseA}`,
        `account_suspended:${caseA}`,
        `account_reactivated:${caseA}`,
      ].sort(),
    );
    expect(mails).toHaveLength(6);
    for (const m of mails) {
      // Text and HTML as multipart/alternative; dunning notices are transactional: no unsubscribe.
      expect(m.headers['content-type']).toMatch(/^multipart\/alternative;/u);
      expect(m.text.length).toBeGreaterThan(50);
      expect(m.html).toContain('<!DOCTYPE html>');
      expect(m.headers['list-unsubscribe']).toBeUndefined();
      expect(m.text).toContain(`: ${BILLING_APP_URL}`);
      expect(m.html).toContain(`href="${BILLING_APP_URL}"`);
    }

    const day0 = mails.filter((m) => subjectOf(m) === 'Payment of 49,00 € failed');
    expect(day0).toHaveLength(2);
    const a0 = day0.find((m) => m.text.includes(`in_${caseA}`))!;
    // 16:00 UTC is 01:00 of the next day in Tokyo; the amount in German.
    expect(plain(a0.text)).toContain('We will try again on 25. November 2026 um 01:00 GMT+9.');
    expect(plain(a0.html ?? '')).toContain('<bdi>25. November 2026 um 01:00 GMT+9</bdi>');
    expect(plain(a0.text)).toContain('Amount due: 49,00 €');
    // The pay-now action is the invoice's hosted page.
    expect(a0.text).toContain(`Pay now: https://invoice.stripe.test/i/${caseA}`);
    expect(a0.html).toContain(`href="https://invoice.stripe.test/i/${caseA}"`);

    const subjects = mails.map(subjectOf);
    expect(subjects).toContain('Reminder: payment of 49,00 € is still due');
    expect(subjects.filter((x) => x.startsWith('Urgent: '))).toEqual([
      expect.stringContaining('becomes read-only on 29. November 2026 um 01:00 GMT+9'),
    ]);
    const suspension = mails.find((m) => subjectOf(m).includes('is read-only until 49,00 € is paid'));
    expect(suspension).toBeDefined();
    const reactivated = mails.find((m) => subjectOf(m).endsWith('is active again'));
    expect(plain(reactivated?.text ?? '')).toContain(
      'Full access was restored on 29. November 2026 um 12:00 GMT+9.',
    );

    // The suspension notice's HTML in a real browser: what a reader sees, and nothing fetched.
    const browser = await launchBrowser();
    try {
      const page = await browser.context.newPage();
      const requested: string[] = [];
      await page.route('**/*', async (route) => {
        requested.push(route.request().url());
        await route.abort();
      });
      await page.setContent(suspension!.html ?? '', { waitUntil: 'load' });
      const visible = plain(await page.locator('body').innerText());
      expect(visible).toContain('is read-only until 49,00 € is paid');
      expect(visible).toMatch(/since 29\. November 2026 um 01:00 GMT\+9 the account is read-only/u);
      expect(visible).toContain('Full access returns as soon as the invoice is paid.');
      expect(await page.getByRole('link', { name: 'Pay now' }).getAttribute('href')).toBe(
        `https://invoice.stripe.test/i/${caseA}`,
      );
      expect(await page.getByRole('heading', { level: 1 }).innerText()).toContain('is read-only');
      expect(await page.getByRole('rowheader', { name: 'Amount due' }).count()).toBe(1);
      expect(requested).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 90_000);

  /** An account in `timeZone` whose customer is on the Stripe test clock `clock`, with an owner token. */
  async function accountOnClock(clock: string, locale: string, timeZone: string) {
    const billingEmail = `billing-${randomUUID().slice(0, 8)}@example.test`;
    const accountId = await createAccountWith(s.t.url, s.admin, { locale, timeZone, billingEmail });
    const customer = await customerOnClock(s, accountId, clock, billingEmail);
    const owner = await tokenFor({ sub: `owner-${randomUUID()}`, role: 'owner', accountId });
    return { accountId, billingEmail, customer, owner };
  }

  async function startTrial(a: { accountId: string; owner: string }) {
    const res = await http<{ state: string }>(s.t.url, 'POST', '/v1/subscription/trial', {
      token: a.owner,
      headers: { 'idempotency-key': randomUUID() },
      body: { plan: 'pro' },
    });
    expect(res).toMatchObject({ status: 200, body: { state: 'trialing' } });
    const [row] = await s.t.db.query<{ id: string; stripe_subscription_id: string }[]>(
      `SELECT id, stripe_subscription_id FROM subscriptions WHERE account_id = $1`,
      [a.accountId],
    );
    return row!;
  }

  /** Waits until the app recorded the test clock's time (its `test_clock.ready` applied). */
  const clockRecorded = (clockId: string, at: number): Promise<unknown> =>
    until(async () => {
      const rows = await s.t.db.query<{ t: Date }[]>(
        `SELECT frozen_time AS t FROM dunning_test_clocks WHERE test_clock_id = $1`,
        [clockId],
      );
      return (rows[0]?.t.getTime() ?? 0) >= at * 1000;
    }, 'the clock time recorded');

  it('R-EDGE-3: trials end at local midnight in Pacific/Kiritimati and America/Adak; the trial-ending reminder comes on the test clock, once', async () => {
    const start = Math.floor(Date.parse('2031-05-01T09:00:00Z') / 1000);
    const clock = await s.stripe.testHelpers.testClocks.create({ frozen_time: start });
    const kiritimati = await accountOnClock(clock.id, 'en-US', 'Pacific/Kiritimati');
    const adak = await accountOnClock(clock.id, 'en-US', 'America/Adak');
    const subK = await startTrial(kiritimati);
    const subA = await startTrial(adak);

    // UTC instants at Stripe: 00:00 on 16 May in Kiritimati (UTC+14) and on 15 May in Adak (HDT, UTC−9).
    const trialEnd = async (id: string) => (await s.stripe.subscriptions.retrieve(id)).trial_end;
    expect(await trialEnd(subK.stripe_subscription_id)).toBe(Date.parse('2031-05-15T10:00:00Z') / 1000);
    expect(await trialEnd(subA.stripe_subscription_id)).toBe(Date.parse('2031-05-15T09:00:00Z') / 1000);

    // Localized display: the trial-started e-mail shows each account its own midnight.
    const startedK = await mailWith(
      kiritimati.billingEmail,
      /^Your Pro trial has started$/u,
      'trial started (K)',
    );
    expect(plain(startedK.text)).toMatch(/It ends on May 16, 2031(,| at) 12:00 AM GMT\+14\./u);
    expect(startedK.headers['list-unsubscribe']).toBeUndefined();
    const startedA = await mailWith(adak.billingEmail, /^Your Pro trial has started$/u, 'trial started (A)');
    expect(plain(startedA.text)).toMatch(/It ends on May 15, 2031(,| at) 12:00 AM (HDT|HADT)\./u);

    // Three days before the end (on the clock), Stripe's notice brings the reminder.
    await s.stripe.testHelpers.testClocks.advance(clock.id, {
      frozen_time: Math.floor(Date.parse('2031-05-12T11:00:00Z') / 1000),
    });
    const endingK = await mailWith(kiritimati.billingEmail, /^Your Pro trial ends on /u, 'trial ending (K)');
    expect(subjectOf(endingK)).toMatch(/May 16, 2031(,| at) 12:00 AM GMT\+14$/u);
    const endingA = await mailWith(adak.billingEmail, /^Your Pro trial ends on /u, 'trial ending (A)');
    // A reminder: one-click unsubscribe (header and footer link), and the billing page to add a card.
    for (const m of [endingK, endingA]) {
      expect(m.headers['list-unsubscribe']).toMatch(
        /^<http:\/\/localhost:3000\/v1\/notifications\/unsubscribe\?token=/u,
      );
      expect(m.headers['list-unsubscribe-post']).toBe('List-Unsubscribe=One-Click');
      expect(m.text).toContain(`Add a payment method: ${BILLING_APP_URL}`);
      expect(m.html).toContain('Unsubscribe from these reminders</a>');
    }

    // The catch-up scan (by the test clock's time, now inside the three days) finds both reminders sent.
    await clockRecorded(clock.id, Math.floor(Date.parse('2031-05-12T11:00:00Z') / 1000));
    expect(await s.t.app.get(ScanRemindersHandler, { strict: false }).trialsEnding(1000)).toBe(0);
    for (const a of [kiritimati, adak]) {
      const { rows } = await settled(a.accountId, a.billingEmail);
      expect(rows.filter((r) => r.template === 'trial_ending')).toHaveLength(1);
    }
  }, 120_000);

  it('R-DUN-6/R-EDGE-1: a default card expiring before the renewal is e-mailed once per card and renewal; the scan catches up a trial reminder', async () => {
    const clock = await s.stripe.testHelpers.testClocks.create({
      frozen_time: Math.floor(Date.parse('2031-05-20T09:00:00Z') / 1000),
    });
    const a = await accountOnClock(clock.id, 'en-GB', 'Europe/London');
    /** A card made the customer's default once its mirror row is there (as a card added and then chosen). */
    const useCard = async (expMonth: number, expYear: number): Promise<string> => {
      const pm = await s.stripe.paymentMethods.create({
        type: 'card',
        card: { number: '4242424242424242', exp_month: expMonth, exp_year: expYear, cvc: '123' },
      });
      await s.stripe.paymentMethods.attach(pm.id, { customer: a.customer });
      await until(async () => {
        const rows = await s.t.db.query<unknown[]>(
          `SELECT 1 FROM payment_methods WHERE stripe_payment_method_id = $1 AND status = 'attached'`,
          [pm.id],
        );
        return rows.length === 1;
      }, `the card ${pm.id} mirrored`);
      await s.stripe.customers.update(a.customer, { invoice_settings: { default_payment_method: pm.id } });
      await until(async () => {
        const rows = await s.t.db.query<unknown[]>(
          `SELECT 1 FROM accounts WHERE id = $1 AND stripe_default_payment_method_id = $2`,
          [a.accountId, pm.id],
        );
        return rows.length === 1;
      }, `the default card ${pm.id} mirrored`);
      return pm.id;
    };
    const expiringRows = async () =>
      (
        await s.t.db.query<{ dedupe_key: string }[]>(
          `SELECT dedupe_key FROM notifications WHERE account_id = $1 AND template = 'card_expiring' ORDER BY dedupe_key`,
          [a.accountId],
        )
      ).map((r) => r.dedupe_key);
    const scanner = s.t.app.get(ScanRemindersHandler, { strict: false });
    /** The scan at an app time: the clock's accounts are judged by their test clock's time whatever it is. */
    const scanAt = async (at: string) => {
      s.t.clock.set(new Date(at));
      try {
        return await scanner.scan();
      } finally {
        s.t.clock.set(new Date());
      }
    };

    // A card valid through May 2031, made default before there is any subscription: nothing to renew.
    const may = await useCard(5, 2031);
    expect(await expiringRows()).toEqual([]);
    await startTrial(a);
    const [sub] = await s.t.db.query<{ trial_end: Date }[]>(
      `SELECT trial_end FROM subscriptions WHERE account_id = $1`,
      [a.accountId],
    );
    // The renewal: the trial's end, 00:00 on 4 June in London (BST).
    expect(sub!.trial_end.toISOString()).toBe('2031-06-03T23:00:00.000Z');
    // The daily scan finds the card that expires before that renewal: one e-mail, none on the next scans.
    expect((await scanAt('2031-05-20T10:00:00Z')).cardExpiring).toBe(1);
    expect((await scanAt('2031-05-21T10:00:00Z')).cardExpiring).toBe(0);
    // The verdict shows the banner while the default card expires too soon.
    const banners = async () =>
      (
        await http<{ banners: { kind: string }[] }>(
          s.t.url,
          'GET',
          `/v1/accounts/${a.accountId}/entitlements`,
          {
            token: a.owner,
          },
        )
      ).body.banners;
    expect(await banners()).toContainEqual({
      kind: 'card_expiring',
      at: '2031-06-03T23:00:00.000Z',
      brand: 'visa',
      last4: '4242',
      expMonth: 5,
      expYear: 2031,
    });
    // A new default card valid through June lasts until the renewal: nothing.
    await useCard(6, 2031);
    expect(await expiringRows()).toHaveLength(1);
    await until(
      async () => !(await banners()).some((b) => b.kind === 'card_expiring'),
      'the banner gone with a card that lasts',
    );
    expect((await scanAt('2031-05-22T10:00:00Z')).cardExpiring).toBe(0);
    // Another new default card that expires in May: a new cause, e-mailed when it becomes the default.
    const mayToo = await useCard(5, 2031);
    expect(await expiringRows()).toHaveLength(2);
    expect((await scanAt('2031-05-22T11:00:00Z')).cardExpiring).toBe(0);

    // The clock stayed in May: its trial is not within three days of ending whatever the app's clock says.
    expect((await scanAt('2031-06-01T00:00:00Z')).trialEnding).toBe(0);
    // The trial-ending reminder of an account on real time whose Stripe notice has not come: the scan
    // sends it once the app's clock is within three days of the end, once.
    const realTime = await accountWithCustomer(s, 'en-GB', 'Europe/London');
    const realOwner = await tokenFor({
      sub: `owner-${randomUUID()}`,
      role: 'owner',
      accountId: realTime.accountId,
    });
    await startTrial({ accountId: realTime.accountId, owner: realOwner });
    const [realSub] = await s.t.db.query<{ trial_end: Date }[]>(
      `SELECT trial_end FROM subscriptions WHERE account_id = $1`,
      [realTime.accountId],
    );
    const twoDaysBefore = new Date(realSub!.trial_end.getTime() - 2 * 86_400_000).toISOString();
    expect((await scanAt(twoDaysBefore)).trialEnding).toBe(1);
    expect((await scanAt(twoDaysBefore)).trialEnding).toBe(0);

    const { rows, mails } = await settled(a.accountId, a.billingEmail);
    expect(rows.filter((r) => r.template === 'card_expiring').map((r) => r.dedupe_key)).toEqual(
      [
        `card_expiring:${may}:2031-06-03T23:00:00.000Z`,
        `card_expiring:${mayToo}:2031-06-03T23:00:00.000Z`,
      ].sort(),
    );
    const expiring = mails.filter((m) => /^Your visa ending in 4242 expires soon$/u.test(subjectOf(m)));
    expect(expiring).toHaveLength(2);
    for (const m of expiring) {
      expect(plain(m.text)).toContain(
        'expires in May 2031, before the next renewal on 4 June 2031 at 00:00 BST.',
      );
      expect(m.text).toContain(`Update payment method: ${BILLING_APP_URL}`);
      expect(m.headers['list-unsubscribe']).toBeDefined();
      expect(m.html).toContain('<bdi>May 2031</bdi>');
    }
    expect(mails.filter((m) => subjectOf(m).startsWith('Your Pro trial ends on'))).toHaveLength(0);
    const real = await settled(realTime.accountId, realTime.billingEmail);
    expect(real.rows.filter((r) => r.template === 'trial_ending')).toHaveLength(1);
    expect(real.mails.filter((m) => subjectOf(m).startsWith('Your Pro trial ends on'))).toHaveLength(1);
  }, 120_000);

  it('R-DUN-6 by test-clock time: a clock years ahead does not make a card valid today look expiring; the card that will expire before a renewal is e-mailed when the clock reaches that renewal', async () => {
    const clock = await s.stripe.testHelpers.testClocks.create({
      frozen_time: Math.floor(Date.parse('2031-01-10T09:00:00Z') / 1000),
    });
    const a = await accountOnClock(clock.id, 'en-GB', 'Europe/London');
    const scanner = s.t.app.get(ScanRemindersHandler, { strict: false });
    /** What the scan and the verdict's banner see for this account: (card, renewal) pairs. */
    const mine = async () =>
      (
        await s.t.app
          .get(ExpiringCardsQueries, { strict: false })
          .expiringDefaultCards(s.t.db.manager, { limit: 10, accountId: a.accountId, unsentOnly: false })
      ).map((r) => `${r.stripe_payment_method_id}:${r.renewal_at.toISOString()}`);
    const expiringRows = async () =>
      (
        await s.t.db.query<{ dedupe_key: string }[]>(
          `SELECT dedupe_key FROM notifications WHERE account_id = $1 AND template = 'card_expiring' ORDER BY dedupe_key`,
          [a.accountId],
        )
      ).map((r) => r.dedupe_key);
    const useCard = async (expMonth: number, expYear: number): Promise<string> => {
      const pm = await s.stripe.paymentMethods.create({
        type: 'card',
        card: { number: '4242424242424242', exp_month: expMonth, exp_year: expYear, cvc: '123' },
      });
      await s.stripe.paymentMethods.attach(pm.id, { customer: a.customer });
      await until(async () => {
        const rows = await s.t.db.query<unknown[]>(
          `SELECT 1 FROM payment_methods WHERE stripe_payment_method_id = $1 AND status = 'attached'`,
          [pm.id],
        );
        return rows.length === 1;
      }, `the card ${pm.id} mirrored`);
      await s.stripe.customers.update(a.customer, { invoice_settings: { default_payment_method: pm.id } });
      await until(async () => {
        const rows = await s.t.db.query<unknown[]>(
          `SELECT 1 FROM accounts WHERE id = $1 AND stripe_default_payment_method_id = $2`,
          [a.accountId, pm.id],
        );
        return rows.length === 1;
      }, `the default card ${pm.id} mirrored`);
      return pm.id;
    };
    const periodEnd = async (iso: string) =>
      until(async () => {
        const rows = await s.t.db.query<{ end: Date | null; trial_end: Date | null; state: string }[]>(
          `SELECT current_period_end AS end, trial_end, state FROM subscriptions WHERE account_id = $1`,
          [a.accountId],
        );
        return rows[0]?.state === 'active' && rows[0].end?.toISOString() === iso;
      }, `the renewal on ${iso} mirrored`);
    const advance = async (iso: string) => {
      const t = Math.floor(Date.parse(iso) / 1000);
      await s.stripe.testHelpers.testClocks.advance(clock.id, { frozen_time: t });
      await clockRecorded(clock.id, t);
    };

    await startTrial(a);
    // The trial's end (00:00 on 25 January in London) is the first renewal.
    const [sub] = await s.t.db.query<{ trial_end: Date }[]>(
      `SELECT trial_end FROM subscriptions WHERE account_id = $1`,
      [a.accountId],
    );
    expect(sub!.trial_end.toISOString()).toBe('2031-01-25T00:00:00.000Z');

    // A card valid through December of next year (real time): by the wall clock it would expire before the
    // 2031 renewal; by the clock's time (2031) it has long expired: not "expiring", no e-mail, no banner.
    const nextYear = new Date().getUTCFullYear() + 1;
    await useCard(12, nextYear);
    expect((await scanner.scan()).cardExpiring).toBe(0);
    expect(await mine()).toEqual([]);

    // A card valid through February 2031: it lasts until the first renewals.
    const february = await useCard(2, 2031);
    expect((await scanner.scan()).cardExpiring).toBe(0);
    await advance('2031-01-26T00:00:00Z');
    await periodEnd('2031-02-25T00:00:00.000Z');
    expect((await scanner.scan()).cardExpiring).toBe(0);
    expect(await mine()).toEqual([]);

    // The clock reaches the renewal of 25 February: the next one (25 March) is after the card's end.
    await advance('2031-02-26T00:00:00Z');
    await periodEnd('2031-03-25T00:00:00.000Z');
    expect(await mine()).toEqual([`${february}:2031-03-25T00:00:00.000Z`]);
    expect((await scanner.scan()).cardExpiring).toBe(1);
    expect((await scanner.scan()).cardExpiring).toBe(0);
    expect(await expiringRows()).toEqual([`card_expiring:${february}:2031-03-25T00:00:00.000Z`]);
    const mail = await mailWith(a.billingEmail, /^Your visa ending in 4242 expires soon$/u, 'card expiring');
    expect(plain(mail.text)).toContain(
      'expires in February 2031, before the next renewal on 25 March 2031 at 00:00 GMT.',
    );

    // Once the clock is past the card's end, it is expired, not expiring: no banner, no new e-mail.
    await advance('2031-03-02T00:00:00Z');
    expect(await mine()).toEqual([]);
    expect((await scanner.scan()).cardExpiring).toBe(0);
    expect(await expiringRows()).toHaveLength(1);
  }, 120_000);

  it('plan changed and subscription canceled e-mails come from the subscription events', async () => {
    const clock = await s.stripe.testHelpers.testClocks.create({
      frozen_time: Math.floor(Date.parse('2031-03-01T12:00:00Z') / 1000),
    });
    const a = await accountOnClock(clock.id, 'en-US', 'America/New_York');
    const owner = a.owner;
    const sub = await startTrial(a);
    const canceled = await http(s.t.url, 'POST', '/v1/subscription/cancel', {
      token: owner,
      headers: { 'idempotency-key': randomUUID() },
      body: { when: 'now' },
    });
    expect(canceled.status).toBe(200);
    const ref = {
      subscriptionId: sub.id,
      accountId: a.accountId,
      stripeSubscriptionId: sub.stripe_subscription_id,
    };
    const downgrade = {
      type: 'subscription.plan_changed' as const,
      payload: {
        ...ref,
        type: 'subscription.plan_changed' as const,
        version: 1 as const,
        occurredAt: '2031-04-01T04:00:00.000Z',
        fromState: 'active' as const,
        toState: 'active' as const,
        fromPlanId: 'business',
        toPlanId: 'pro',
        fromInterval: 'month',
        toInterval: 'month',
        direction: 'downgrade' as const,
      },
    };
    await publish(downgrade);
    await publish(downgrade);

    const { rows, mails } = await settled(a.accountId, a.billingEmail);
    expect(rows.map((r) => r.template).sort()).toEqual([
      'plan_changed',
      'subscription_canceled',
      'trial_started',
    ]);
    const changed = mails.find((m) => subjectOf(m) === 'Your plan is now Pro');
    expect(plain(changed?.text ?? '')).toMatch(
      /The downgrade of .+ from Business to Pro took effect on April 1, 2031(,| at) 12:00 AM EDT\./u,
    );
    const ended = mails.find((m) => subjectOf(m) === 'Your Pro subscription has ended');
    expect(ended?.text).toContain('The account is on the Free plan now; nothing was deleted.');
    expect(ended?.text).toContain(`Choose a plan: ${BILLING_APP_URL}`);
    expect(ended?.headers['list-unsubscribe']).toBeUndefined();
  }, 90_000);
});
