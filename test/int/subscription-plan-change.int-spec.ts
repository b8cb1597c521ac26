import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import type Stripe from 'stripe';
import { DomainEvents } from '../../apps/billing-api/src/platform/events/domain-events.js';
import { startStripeWorld, type StripeWorld } from '../support/stripe-world.js';
import { http, tokenFor } from '../support/test-app.js';
import {
  addMembers,
  advanceDays,
  catalogPrice,
  allWebhooksSettled,
  applyQuote,
  quote,
  stripeItems,
  subscribedOnClock,
  subscriptionRow,
  type ClockedAccount,
} from './plan-change.support.js';
import { until } from './webhooks.support.js';

// R-SUB-3/4, R-EDGE-7/15: plan changes through locked quotes, end to end on test clocks against the
// emulator (catalogue synced at start-up) and its signed webhooks.
describe('plan changes: quotes priced by Stripe, applied exactly', () => {
  let w: StripeWorld;

  beforeAll(async () => {
    w = await startStripeWorld({ env: { CATALOG_SYNC_ON_START: 'true', QUOTE_TTL_MINUTES: '15' } });
  });
  afterAll(async () => {
    await w?.close();
  });

  /** The Stripe invoice a change was charged on, checked against its quote to the cent. */
  async function expectChargedExactly(q: { stripeInvoiceId: string | null; amountDueNow: number }) {
    expect(q.stripeInvoiceId).toMatch(/^in_/);
    const invoice = await w.stripe.invoices.retrieve(q.stripeInvoiceId!);
    expect(invoice.status).toBe('paid');
    expect(invoice.amount_paid).toBe(q.amountDueNow);
    return invoice;
  }

  it.each([
    { interval: 'month' as const, balance: 0 },
    { interval: 'month' as const, balance: -1500 },
    { interval: 'year' as const, balance: 0 },
    { interval: 'year' as const, balance: -20000 },
  ])(
    'upgrades Pro to Business mid-cycle ($interval, credit balance $balance), charging exactly the quote',
    async ({ interval, balance }) => {
      const a = await subscribedOnClock(w, { plan: 'pro', interval, seats: 1, balance });
      await advanceDays(w, a, interval === 'month' ? 10 : 100);
      const q = await quote(w, a, { plan: 'business', interval, seats: 1 });
      expect(q.status).toBe(201);
      expect(q.body).toMatchObject({ kind: 'upgrade', status: 'open', to: { planId: 'business', seats: 1 } });
      expect(q.body.credit).toBeGreaterThan(0);
      expect(q.body.amountDueNow).toBeGreaterThan(0);
      // The credit balance covers what it can of the proration invoice.
      expect(q.body.creditBalanceApplied).toBe(
        Math.min(Math.abs(balance), q.body.amountDueNow + q.body.creditBalanceApplied),
      );
      expect(q.body.creditBalanceApplied > 0).toBe(balance !== 0);
      // Nothing changed yet.
      expect((await subscriptionRow(w, a.subscriptionId)).plan_id).toBe('pro');

      const changed = await applyQuote(w, a, q.body.id);
      expect(changed.status).toBe(200);
      expect(changed.body.quote).toMatchObject({ id: q.body.id, status: 'applied' });
      // Features at once: the answer shows Business (or, when the row was locked by a webhook, the
      // mirror shows it within moments).
      await until(
        async () => {
          const v = await http<{ plan: { id: string } }>(w.t.url, 'GET', '/v1/subscription', {
            token: a.owner,
          });
          return v.body.plan.id === 'business';
        },
        'Business at once',
        5_000,
      );
      const invoice = await expectChargedExactly(changed.body.quote);
      // The invoice carries the credit the quote showed and used the credit balance it said.
      const credited = invoice.lines.data.filter((l) => l.amount < 0).reduce((s, l) => s - l.amount, 0);
      expect(credited).toBe(q.body.credit);
      expect((invoice.ending_balance ?? 0) - (invoice.starting_balance ?? 0)).toBe(
        q.body.creditBalanceApplied,
      );
      expect(invoice.total).toBe(q.body.amountDueNow + q.body.creditBalanceApplied);
      expect(await stripeItems(w, a.subscriptionId)).toEqual(
        [`business_${interval}_basex1`, `business_${interval}_seatx1`].sort(),
      );
      // Features at once: the app's row is on Business, audited before/after, event published.
      await allWebhooksSettled(w);
      expect(await subscriptionRow(w, a.subscriptionId)).toMatchObject({
        plan_id: 'business',
        state: 'active',
      });
      const audit = await w.t.db.query<
        { before: { planId: string }; after: { planId: string; quoteId: string } }[]
      >(
        `SELECT before, after FROM audit_log WHERE account_id = $1 AND action = 'subscription.plan_change_applied'`,
        [a.accountId],
      );
      expect(audit).toHaveLength(1);
      expect(audit[0]).toMatchObject({
        before: { planId: 'pro' },
        after: { planId: 'business', quoteId: q.body.id },
      });
      const view = await http<{ plan: { id: string } }>(w.t.url, 'GET', '/v1/subscription', {
        token: a.owner,
      });
      expect(view.body.plan.id).toBe('business');
    },
  );

  it('a downgrade keeps the tier until the period ends, then switches, the credit on the next invoice (R-SUB-4, R-EDGE-7)', async () => {
    const a = await subscribedOnClock(w, { plan: 'business', interval: 'month' });
    await advanceDays(w, a, 12);
    const q = await quote(w, a, { plan: 'pro', interval: 'month' });
    expect(q.status).toBe(201);
    expect(q.body).toMatchObject({ kind: 'downgrade', amountDueNow: 0 });
    expect(q.body.credit).toBeGreaterThan(0);

    const changed = await applyQuote(w, a, q.body.id);
    expect(changed.status).toBe(200);
    expect(changed.body.subscription.plan.id).toBe('business');
    expect(changed.body.subscription.pendingDowngrade).toMatchObject({ planId: 'pro', interval: 'month' });
    expect(changed.body.quote.stripeInvoiceId).toBeNull();
    // Stripe bills Pro from now on; nothing was charged now.
    expect(await stripeItems(w, a.subscriptionId)).toEqual(['pro_month_basex1']);
    await allWebhooksSettled(w);
    expect(await subscriptionRow(w, a.subscriptionId)).toMatchObject({
      plan_id: 'business',
      pending_plan_id: 'pro',
    });

    // While the downgrade is scheduled, Stripe already bills Pro: another plan waits until it applies
    // (the current plan again would withdraw it: see the withdrawal test).
    const meanwhile = await quote(w, a, { plan: 'business', interval: 'year' });
    expect(meanwhile.status).toBe(409);
    expect(meanwhile.body.error).toMatchObject({
      code: 'invalid_transition',
      details: { pendingPlanId: 'pro' },
    });

    await advanceDays(w, a, 32);
    const renewal = await until(async () => {
      const list = await w.stripe.invoices.list({ subscription: a.subscriptionId, limit: 10 });
      return list.data.find((i) => i.billing_reason === 'subscription_cycle' && i.status === 'paid');
    }, 'the renewal invoice paid');
    expect(renewal.total).toBe(q.body.nextInvoice.amount);
    const credited = renewal.lines.data.filter((l) => l.amount < 0).reduce((s, l) => s - l.amount, 0);
    expect(credited).toBe(q.body.credit);
    expect(new Date(q.body.nextInvoice.at).getTime()).toBeLessThanOrEqual((a.start + 32 * 86_400) * 1000);
    const row = await until(async () => {
      const r = await subscriptionRow(w, a.subscriptionId);
      return r.plan_id === 'pro' ? r : null;
    }, 'the downgrade applied at the period end');
    expect(row).toMatchObject({ state: 'active', pending_plan_id: null });
    // The switch at the period end is audited as the machine made it.
    const switched = await w.t.db.query<{ action: string }[]>(
      `SELECT action FROM audit_log WHERE account_id = $1 AND entity_type = 'subscription'
          AND before->>'planId' = 'business' AND after->>'planId' = 'pro'`,
      [a.accountId],
    );
    expect(switched.length).toBeGreaterThanOrEqual(1);
  });

  /** The app's period end and interval of the subscription. */
  async function periodOfRow(subscriptionId: string) {
    const [row] = await w.t.db.query<{ interval: string; current_period_end: Date }[]>(
      `SELECT billing_interval AS interval, current_period_end FROM subscriptions WHERE stripe_subscription_id = $1`,
      [subscriptionId],
    );
    return row!;
  }

  /** Every domain event published from now on (the real publisher, recorded on its way through). */
  function recordPublished(): { types: () => string[]; restore: () => void } {
    const spy = jest.spyOn(w.t.app.get(DomainEvents), 'publish');
    return {
      types: () => spy.mock.calls.flatMap((c) => c[1].map((e) => e.type)),
      restore: () => spy.mockRestore(),
    };
  }

  it.each([{ balance: 0 }, { balance: -1500 }])(
    'monthly -> yearly mid-period (credit balance $balance): the cycle restarts at the change, charged exactly the quote',
    async ({ balance }) => {
      const a = await subscribedOnClock(w, { plan: 'pro', interval: 'month', seats: 1, balance });
      await advanceDays(w, a, 10);
      const q = await quote(w, a, { plan: 'pro', interval: 'year', seats: 1 });
      expect(q.status).toBe(201);
      expect(q.body).toMatchObject({
        kind: 'upgrade',
        billingCycleRestarts: true,
        creditBalanceAdded: 0,
        to: { planId: 'pro', interval: 'year', seats: 1 },
        // The next invoice is the yearly renewal (Pro $290 + one seat $60), a year after the change.
        nextInvoice: { amount: 35_000 },
      });
      const changeAt = a.start + 10 * 86_400;
      expect(new Date(q.body.nextInvoice.at).getTime()).toBe(Date.UTC(2032, 2, 13, 12));
      // The new year in full, less the unused month (and the credit balance it can use).
      expect(q.body.credit).toBeGreaterThan(0);
      expect(q.body.amountDueNow + q.body.creditBalanceApplied).toBe(35_000 - q.body.credit);
      expect(q.body.creditBalanceApplied).toBe(Math.abs(balance));
      expect(await periodOfRow(a.subscriptionId)).toMatchObject({ interval: 'month' });

      const changed = await applyQuote(w, a, q.body.id);
      expect(changed.status).toBe(200);
      expect(changed.body.quote).toMatchObject({ status: 'applied' });
      const invoice = await expectChargedExactly(changed.body.quote);
      expect(invoice.total).toBe(q.body.amountDueNow + q.body.creditBalanceApplied);
      expect(await stripeItems(w, a.subscriptionId)).toEqual(['pro_year_basex1', 'pro_year_seatx1']);
      const sub = await w.stripe.subscriptions.retrieve(a.subscriptionId);
      expect(sub.billing_cycle_anchor).toBe(changeAt);
      // At once in the app: the yearly interval and the new period end, audited.
      await allWebhooksSettled(w);
      const row = await periodOfRow(a.subscriptionId);
      expect(row.interval).toBe('year');
      expect(row.current_period_end.getTime()).toBe(sub.items.data[0]!.current_period_end * 1000);
      expect(row.current_period_end.toISOString()).toBe(q.body.nextInvoice.at);
      const audit = await w.t.db.query<{ after: { interval: string; quoteId: string } }[]>(
        `SELECT after FROM audit_log WHERE account_id = $1 AND action = 'subscription.plan_change_applied'`,
        [a.accountId],
      );
      expect(audit.map((r) => r.after)).toEqual([
        expect.objectContaining({ interval: 'year', quoteId: q.body.id }),
      ]);
      // The old monthly renewal does not come: nothing more is billed before the year ends.
      await advanceDays(w, a, 45);
      const invoices = await w.stripe.invoices.list({ subscription: a.subscriptionId, limit: 20 });
      expect(invoices.data.filter((i) => i.created >= changeAt).map((i) => i.billing_reason)).toEqual([
        'subscription_update',
      ]);
      expect(await periodOfRow(a.subscriptionId)).toMatchObject({ interval: 'year' });
    },
  );

  it.each([{ balance: 0 }, { balance: -1000 }])(
    'yearly -> monthly (credit balance $balance): applied at once, nothing charged, the rest of the credit to the balance, which pays the next months',
    async ({ balance }) => {
      const a = await subscribedOnClock(w, { plan: 'business', interval: 'year', balance });
      await advanceDays(w, a, 30);
      const q = await quote(w, a, { plan: 'pro', interval: 'month' });
      expect(q.status).toBe(201);
      expect(q.body).toMatchObject({
        kind: 'downgrade',
        billingCycleRestarts: true,
        amountDueNow: 0,
        creditBalanceApplied: 0,
        nextInvoice: { amount: 2_900 },
      });
      // Business $990 for 336 of the 366 days (to Mar 3, 2032) unused, less the first month of Pro.
      expect(q.body.credit).toBe(Math.round((99_000 * 336) / 366));
      expect(q.body.creditBalanceAdded).toBe(q.body.credit - 2_900);
      expect(new Date(q.body.nextInvoice.at).getTime()).toBe(Date.UTC(2031, 4, 2, 12));

      const changed = await applyQuote(w, a, q.body.id);
      expect(changed.status).toBe(200);
      // At once: Pro monthly, no downgrade left pending (the unused year was credited in full). (When a
      // webhook held the row, the mirror applies the change within moments: see the upgrade test.)
      await until(
        async () => {
          const v = await http<{ plan: { id: string }; pendingDowngrade: unknown }>(
            w.t.url,
            'GET',
            '/v1/subscription',
            { token: a.owner },
          );
          return v.body.plan.id === 'pro' && v.body.pendingDowngrade === null;
        },
        'Pro monthly at once, nothing pending',
        5_000,
      );
      const invoice = await w.stripe.invoices.retrieve(changed.body.quote.stripeInvoiceId!);
      expect(invoice).toMatchObject({ status: 'paid', amount_paid: 0, total: 2_900 - q.body.credit });
      const customer = (await w.stripe.customers.retrieve(a.customerId)) as Stripe.Customer;
      expect(customer.balance).toBe(balance - q.body.creditBalanceAdded);
      await allWebhooksSettled(w);
      expect(await subscriptionRow(w, a.subscriptionId)).toMatchObject({
        plan_id: 'pro',
        pending_plan_id: null,
        state: 'active',
      });
      expect((await periodOfRow(a.subscriptionId)).current_period_end.toISOString()).toBe(
        q.body.nextInvoice.at,
      );
      // The next month renews at Pro's price, paid from the credit balance.
      await advanceDays(w, a, 61);
      const renewal = await until(async () => {
        const list = await w.stripe.invoices.list({ subscription: a.subscriptionId, limit: 10 });
        return list.data.find((i) => i.billing_reason === 'subscription_cycle' && i.status === 'paid');
      }, 'the monthly renewal paid');
      expect(renewal).toMatchObject({ total: q.body.nextInvoice.amount, amount_paid: 0 });
      const after = (await w.stripe.customers.retrieve(a.customerId)) as Stripe.Customer;
      expect(after.balance).toBe(balance - q.body.creditBalanceAdded + 2_900);
    },
  );

  it('an interval change while past_due is refused with the pay-now action', async () => {
    const a = await subscribedOnClock(w, { plan: 'pro', interval: 'year' });
    await w.t.db.query(
      `UPDATE subscriptions SET state = 'past_due', past_due_since = now() WHERE stripe_subscription_id = $1`,
      [a.subscriptionId],
    );
    const q = await quote(w, a, { plan: 'pro', interval: 'month' });
    expect(q.status).toBe(409);
    expect(q.body.error).toMatchObject({ code: 'outstanding_balance' });
  });

  it.each([
    { from: 'month' as const, to: 'year' as const, kind: 'upgrade' },
    { from: 'year' as const, to: 'month' as const, kind: 'downgrade' },
  ])(
    'an interval change during a trial ($from -> $to): the trial continues, nothing is charged until it ends, as the quote says',
    async ({ from, to, kind }) => {
      // Stripe: changing the price of a trialing subscription prorates nothing and keeps the trial; the
      // new price is first invoiced when the trial ends, which starts the new interval's first period.
      const a = await subscribedOnClock(w, { plan: 'pro', interval: from, trialDays: 14 });
      const trialEnd = a.start + 14 * 86_400;
      await advanceDays(w, a, 3);
      const q = await quote(w, a, { plan: 'pro', interval: to });
      expect(q.status).toBe(201);
      const newPrice = await w.stripe.prices.retrieve(await catalogPrice(w, `pro_${to}_base`));
      expect(q.body).toMatchObject({
        kind,
        billingCycleRestarts: false,
        amountDueNow: 0,
        credit: 0,
        creditBalanceApplied: 0,
        creditBalanceAdded: 0,
        prorationAmount: 0,
        nextInvoice: { amount: newPrice.unit_amount },
        to: { planId: 'pro', interval: to },
      });
      expect(new Date(q.body.nextInvoice.at).getTime()).toBe(trialEnd * 1000);
      const invoicesBefore = (await w.stripe.invoices.list({ subscription: a.subscriptionId })).data.length;

      const changed = await applyQuote(w, a, q.body.id);
      expect(changed.status).toBe(200);
      expect(changed.body.quote).toMatchObject({ status: 'applied', stripeInvoiceId: null });
      // At Stripe: the new price, still trialing to the same end, no invoice made.
      const sub = await w.stripe.subscriptions.retrieve(a.subscriptionId);
      expect(sub).toMatchObject({ status: 'trialing', trial_end: trialEnd });
      expect(await stripeItems(w, a.subscriptionId)).toEqual([`pro_${to}_basex1`]);
      expect((await w.stripe.invoices.list({ subscription: a.subscriptionId })).data).toHaveLength(
        invoicesBefore,
      );
      // In the app: still trialing, the trial's end unchanged. The ordinary rules otherwise: monthly to
      // yearly is an upgrade, at once; yearly to monthly a downgrade, which takes effect at the end of
      // the period, here the trial's, when Stripe first bills the monthly price.
      await allWebhooksSettled(w);
      expect(await subscriptionRow(w, a.subscriptionId)).toMatchObject({
        state: 'trialing',
        plan_id: 'pro',
        pending_plan_id: kind === 'upgrade' ? null : 'pro',
      });
      expect((await periodOfRow(a.subscriptionId)).interval).toBe(kind === 'upgrade' ? to : from);
      const [trial] = await w.t.db.query<{ trial_end: Date; pending_interval: string | null }[]>(
        `SELECT trial_end, pending_interval FROM subscriptions WHERE stripe_subscription_id = $1`,
        [a.subscriptionId],
      );
      expect(trial).toEqual({
        trial_end: new Date(trialEnd * 1000),
        pending_interval: kind === 'upgrade' ? null : to,
      });
      const audit = await w.t.db.query<{ after: { quoteId: string; amountDueNow: number; kind: string } }[]>(
        `SELECT after FROM audit_log WHERE account_id = $1 AND action = 'subscription.plan_change_applied'`,
        [a.accountId],
      );
      expect(audit.map((r) => r.after)).toEqual([
        expect.objectContaining({ quoteId: q.body.id, amountDueNow: 0, kind }),
      ]);

      // The trial ends: the first invoice is the new interval's price, what the quote said, and the
      // first period is one of the new interval from the trial's end.
      await advanceDays(w, a, 15);
      const first = await until(async () => {
        const list = await w.stripe.invoices.list({ subscription: a.subscriptionId, limit: 10 });
        return list.data.find((i) => i.billing_reason === 'subscription_cycle' && i.status === 'paid');
      }, 'the first invoice, at the trial end, paid');
      expect(first).toMatchObject({
        total: q.body.nextInvoice.amount,
        amount_paid: q.body.nextInvoice.amount,
      });
      await allWebhooksSettled(w);
      const after = await w.stripe.subscriptions.retrieve(a.subscriptionId);
      expect(after.status).toBe('active');
      const periodEnd = after.items.data[0]!.current_period_end;
      expect(after.items.data[0]!.current_period_start).toBe(trialEnd);
      expect(periodEnd - trialEnd).toBeGreaterThanOrEqual((to === 'year' ? 365 : 28) * 86_400);
      expect(await subscriptionRow(w, a.subscriptionId)).toMatchObject({
        state: 'active',
        plan_id: 'pro',
        pending_plan_id: null,
      });
      expect(await periodOfRow(a.subscriptionId)).toEqual({
        interval: to,
        current_period_end: new Date(periodEnd * 1000),
      });
    },
  );

  it('a scheduled downgrade is withdrawn by a quote of the kept plan: Stripe bills it again, nothing switches at the period end', async () => {
    const a = await subscribedOnClock(w, { plan: 'business', interval: 'month' });
    await advanceDays(w, a, 12);
    const down = await quote(w, a, { plan: 'pro', interval: 'month' });
    expect((await applyQuote(w, a, down.body.id)).status).toBe(200);
    await allWebhooksSettled(w);
    expect(await subscriptionRow(w, a.subscriptionId)).toMatchObject({ pending_plan_id: 'pro' });

    await advanceDays(w, a, 15);
    const published = recordPublished();
    try {
      const q = await quote(w, a, { plan: 'business', interval: 'month' });
      expect(q.status).toBe(201);
      expect(q.body).toMatchObject({
        kind: 'downgrade_withdrawn',
        amountDueNow: 0,
        billingCycleRestarts: false,
        from: { planId: 'pro', interval: 'month', seats: 0 },
        to: { planId: 'business', interval: 'month', seats: 0 },
        // Reversed at the downgrade's own instant: its prorations cancel out; Business renews in full.
        prorationDate: down.body.prorationDate,
        nextInvoice: { amount: 9_900, at: down.body.nextInvoice.at },
      });
      const changed = await applyQuote(w, a, q.body.id);
      expect(changed.status).toBe(200);
      // Withdrawn at once (or by the mirror within moments, when a webhook held the row).
      await until(
        async () => {
          const v = await http<{ plan: { id: string }; pendingDowngrade: unknown }>(
            w.t.url,
            'GET',
            '/v1/subscription',
            { token: a.owner },
          );
          return v.body.plan.id === 'business' && v.body.pendingDowngrade === null;
        },
        'the downgrade withdrawn',
        5_000,
      );
      expect(changed.body.quote.stripeInvoiceId).toBeNull();
      expect(await stripeItems(w, a.subscriptionId)).toEqual(['business_month_basex1']);
      await allWebhooksSettled(w);
      expect(await subscriptionRow(w, a.subscriptionId)).toMatchObject({
        plan_id: 'business',
        pending_plan_id: null,
      });
      expect(published.types()).toContain('subscription.plan_change_withdrawn');
      const audit = await w.t.db.query<{ before: { pendingPlanId: string | null }; after: object }[]>(
        `SELECT before, after FROM audit_log WHERE account_id = $1 AND action = 'subscription.plan_change_applied'
          AND after->>'quoteId' = $2`,
        [a.accountId, q.body.id],
      );
      expect(audit).toHaveLength(1);
      expect(audit[0]).toMatchObject({
        before: { pendingPlanId: 'pro' },
        after: { pendingPlanId: null, kind: 'downgrade_withdrawn', quoteId: q.body.id },
      });
      // What Stripe bills next is what the quote showed.
      const upcoming = await w.stripe.invoices.createPreview({ subscription: a.subscriptionId });
      expect(upcoming.total).toBe(q.body.nextInvoice.amount);
    } finally {
      published.restore();
    }

    await advanceDays(w, a, 32);
    const renewal = await until(async () => {
      const list = await w.stripe.invoices.list({ subscription: a.subscriptionId, limit: 10 });
      return list.data.find((i) => i.billing_reason === 'subscription_cycle' && i.status === 'paid');
    }, 'the renewal invoice paid');
    expect(renewal.total).toBe(9_900);
    await allWebhooksSettled(w);
    expect(await subscriptionRow(w, a.subscriptionId)).toMatchObject({
      plan_id: 'business',
      pending_plan_id: null,
      state: 'active',
    });
    const switched = await w.t.db.query<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM audit_log WHERE account_id = $1 AND after->>'planId' = 'pro'`,
      [a.accountId],
    );
    expect(switched[0]?.n).toBe(0);
  });

  it('a seat-only quote: one more seat is charged pro rata now, exactly; one less is credited to the next invoice', async () => {
    const a = await subscribedOnClock(w, { plan: 'pro', interval: 'month', seats: 1 });
    await advanceDays(w, a, 15);
    const more = await quote(w, a, { plan: 'pro', interval: 'month', seats: 2 });
    expect(more.body).toMatchObject({ kind: 'seats_added', to: { planId: 'pro', seats: 2 } });
    expect(more.body.amountDueNow).toBeGreaterThan(0);
    expect(more.body.amountDueNow).toBeLessThan(600);
    const bought = await applyQuote(w, a, more.body.id);
    expect(bought.status).toBe(200);
    await expectChargedExactly(bought.body.quote);
    expect(await stripeItems(w, a.subscriptionId)).toEqual(['pro_month_basex1', 'pro_month_seatx2']);
    await allWebhooksSettled(w);
    expect((await subscriptionRow(w, a.subscriptionId)).seats).toBe(2);

    const fewer = await quote(w, a, { plan: 'pro', interval: 'month', seats: 0 });
    expect(fewer.body).toMatchObject({ kind: 'seats_removed', amountDueNow: 0 });
    expect(fewer.body.credit).toBeGreaterThan(0);
    const released = await applyQuote(w, a, fewer.body.id);
    expect(released.status).toBe(200);
    expect(released.body.quote.stripeInvoiceId).toBeNull();
    expect(await stripeItems(w, a.subscriptionId)).toEqual(['pro_month_basex1']);
    // The credit waits for the next invoice as pending items.
    const pending = await w.stripe.invoiceItems.list({ customer: a.customerId, pending: true });
    expect(pending.data.filter((i) => i.amount < 0).reduce((sum, i) => sum - i.amount, 0)).toBe(
      fewer.body.credit,
    );
    await allWebhooksSettled(w);
    expect((await subscriptionRow(w, a.subscriptionId)).seats).toBe(0);
  });

  it('PUT /v1/subscription/seats with a seats quote charges exactly its amountDueNow; another quote is quote_mismatch', async () => {
    const a = await subscribedOnClock(w, { plan: 'pro', interval: 'month', seats: 1 });
    await advanceDays(w, a, 12);
    const putSeats = (purchased: number, quoteId: string) =>
      http<{
        seats: { purchased: number; total: number };
        change: unknown;
        quote: { id: string; status: string; stripeInvoiceId: string | null; amountDueNow: number };
        error?: { code: string; details?: Record<string, unknown> };
      }>(w.t.url, 'PUT', '/v1/subscription/seats', {
        token: a.owner,
        headers: { 'idempotency-key': randomUUID() },
        body: { purchased, quoteId },
      });
    const more = await quote(w, a, { plan: 'pro', interval: 'month', seats: 3 });
    expect(more.body).toMatchObject({ kind: 'seats_added' });
    const upgrade = await quote(w, a, { plan: 'business', interval: 'month', seats: 1 });
    expect(upgrade.body.kind).toBe('upgrade');

    // A plan change's quote, or a seats quote for another number: refused before Stripe, nothing changes.
    const planQuote = await putSeats(1, upgrade.body.id);
    expect(planQuote.status).toBe(409);
    expect(planQuote.body.error?.code).toBe('quote_mismatch');
    const otherCount = await putSeats(2, more.body.id);
    expect(otherCount.status).toBe(409);
    expect(otherCount.body.error).toMatchObject({
      code: 'quote_mismatch',
      details: { quotedSeats: 3, purchased: 2 },
    });
    expect(await stripeItems(w, a.subscriptionId)).toEqual(['pro_month_basex1', 'pro_month_seatx1']);
    const stillOpen = await http<{ status: string }>(
      w.t.url,
      'GET',
      `/v1/subscription/quotes/${more.body.id}`,
      {
        token: a.owner,
      },
    );
    expect(stillOpen.body.status).toBe('open');

    const bought = await putSeats(3, more.body.id);
    expect(bought.status).toBe(200);
    expect(bought.body.change).toMatchObject({
      fromSeats: 1,
      toSeats: 3,
      amountCharged: more.body.amountDueNow,
      price: { quoteId: more.body.id, amountDue: more.body.amountDueNow },
    });
    expect(bought.body.seats.purchased).toBe(3);
    expect(bought.body.quote).toMatchObject({
      id: more.body.id,
      status: 'applied',
      amountDueNow: more.body.amountDueNow,
    });
    await expectChargedExactly(bought.body.quote);
    expect(await stripeItems(w, a.subscriptionId)).toEqual(['pro_month_basex1', 'pro_month_seatx3']);
    expect((await subscriptionRow(w, a.subscriptionId)).seats).toBe(3);
    // One quote, one change: a second click with it finds the seats bought and changes nothing.
    const again = await putSeats(3, more.body.id);
    expect(again.status).toBe(200);
    expect(again.body.change).toBeNull();
    expect((await w.stripe.invoices.list({ subscription: a.subscriptionId })).data).toHaveLength(2);
    // Applying it as a plan change is refused: it was applied once.
    const asChange = await applyQuote(w, a, more.body.id);
    expect(asChange.status).toBe(409);
    expect(asChange.body.error?.code).toBe('quote_already_applied');
  });

  it('refuses a downgrade whose seats do not cover the members, naming how many to remove (R-EDGE-15)', async () => {
    const a = await subscribedOnClock(w, { plan: 'business', interval: 'month' });
    const members = await w.t.db.query<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM account_members WHERE account_id = $1`,
      [a.accountId],
    );
    await addMembers(w, a.accountId, 8 - (members[0]?.n ?? 0));
    const refused = await quote(w, a, { plan: 'pro', interval: 'month' });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({
      code: 'downgrade_blocked_by_seats',
      details: { membersToRemove: 3, memberCount: 8, seatTotal: 5 },
    });
    // With three add-on seats everyone keeps a seat.
    const ok = await quote(w, a, { plan: 'pro', interval: 'month', seats: 3 });
    expect(ok.status).toBe(201);
    // A member added after the quote: applying it is refused too, and nothing changes.
    await addMembers(w, a.accountId, 1);
    const late = await applyQuote(w, a, ok.body.id);
    expect(late.status).toBe(409);
    expect(late.body.error).toMatchObject({
      code: 'downgrade_blocked_by_seats',
      details: { membersToRemove: 1 },
    });
    expect(await stripeItems(w, a.subscriptionId)).toEqual(['business_month_basex1']);
    expect(await subscriptionRow(w, a.subscriptionId)).toMatchObject({
      plan_id: 'business',
      pending_plan_id: null,
    });
  });

  it('refuses an expired quote and a stale one, changing nothing', async () => {
    const a = await subscribedOnClock(w, { plan: 'pro', interval: 'month' });
    const expiring = await quote(w, a, { plan: 'business', interval: 'month' });
    expect(expiring.status).toBe(201);
    w.t.clock.advance(16 * 60_000);
    try {
      const expired = await applyQuote(w, a, expiring.body.id);
      expect(expired.status).toBe(409);
      expect(expired.body.error?.code).toBe('quote_expired');
    } finally {
      w.t.clock.advance(-16 * 60_000);
    }

    // The subscription changes at Stripe (a seat bought elsewhere): the quote no longer says the truth.
    const stale = await quote(w, a, { plan: 'business', interval: 'month' });
    const seatPrice = await w.t.db.query<{ id: string }[]>(
      `SELECT stripe_price_id AS id FROM catalog_prices WHERE lookup_key = 'pro_month_seat' AND is_current`,
    );
    await w.stripe.subscriptionItems.create({
      subscription: a.subscriptionId,
      price: seatPrice[0]!.id,
      quantity: 1,
      proration_behavior: 'none',
    });
    const refused = await applyQuote(w, a, stale.body.id);
    expect(refused.status).toBe(409);
    expect(refused.body.error?.code).toBe('quote_stale');
    expect(await stripeItems(w, a.subscriptionId)).toEqual(['pro_month_basex1', 'pro_month_seatx1']);
    expect((await subscriptionRow(w, a.subscriptionId)).plan_id).toBe('pro');
    const invoices = await w.stripe.invoices.list({ subscription: a.subscriptionId, limit: 10 });
    expect(invoices.data.filter((i) => i.billing_reason === 'subscription_update')).toHaveLength(0);
  });

  it('a declined upgrade charge leaves the plan as it was; the quote can be applied with a good card', async () => {
    const a = await subscribedOnClock(w, { plan: 'pro', interval: 'month' });
    await advanceDays(w, a, 5);
    const failing = await w.stripe.paymentMethods.attach('pm_card_chargeCustomerFail', {
      customer: a.customerId,
    });
    await w.stripe.customers.update(a.customerId, {
      invoice_settings: { default_payment_method: failing.id },
    });
    await allWebhooksSettled(w);
    const q = await quote(w, a, { plan: 'business', interval: 'month' });
    expect(q.status).toBe(201);
    const declined = await applyQuote(w, a, q.body.id);
    expect(declined.status).toBe(402);
    expect(declined.body.error?.code).toBe('card_declined');
    expect(await stripeItems(w, a.subscriptionId)).toEqual(['pro_month_basex1']);
    await allWebhooksSettled(w);
    expect(await subscriptionRow(w, a.subscriptionId)).toMatchObject({ plan_id: 'pro', state: 'active' });
    const open = await http<{ status: string }>(w.t.url, 'GET', `/v1/subscription/quotes/${q.body.id}`, {
      token: a.owner,
    });
    expect(open.body.status).toBe('open');

    const visa = await w.stripe.paymentMethods.attach('pm_card_visa', { customer: a.customerId });
    await w.stripe.customers.update(a.customerId, { invoice_settings: { default_payment_method: visa.id } });
    await allWebhooksSettled(w);
    const retried = await applyQuote(w, a, q.body.id);
    expect(retried.status).toBe(200);
    await expectChargedExactly(retried.body.quote);
    expect(retried.body.quote.stripeInvoiceId).not.toBeNull();
    expect(await stripeItems(w, a.subscriptionId)).toEqual(['business_month_basex1']);
  });

  it('ten concurrent change requests with one quote make one change', async () => {
    const a = await subscribedOnClock(w, { plan: 'pro', interval: 'month' });
    await advanceDays(w, a, 3);
    const q = await quote(w, a, { plan: 'business', interval: 'month' });
    const answers = await Promise.all(Array.from({ length: 10 }, () => applyQuote(w, a, q.body.id)));
    const statuses = answers.map((r) => r.status).sort();
    expect(statuses).toEqual([200, ...Array<number>(9).fill(409)]);
    for (const r of answers.filter((x) => x.status === 409)) {
      expect(r.body.error?.code).toBe('quote_already_applied');
    }
    const invoices = await w.stripe.invoices.list({ subscription: a.subscriptionId, limit: 20 });
    expect(invoices.data.filter((i) => i.billing_reason === 'subscription_update')).toHaveLength(1);
    await allWebhooksSettled(w);
    const audit = await w.t.db.query<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM audit_log WHERE account_id = $1 AND action = 'subscription.plan_change_applied'`,
      [a.accountId],
    );
    expect(audit[0]?.n).toBe(1);
    // The same Idempotency-Key replays the first answer instead of refusing.
    const key = randomUUID();
    const second = await quote(w, a, { plan: 'business', interval: 'month', seats: 2 });
    const first = await applyQuote(w, a, second.body.id, key);
    expect(first.status).toBe(200);
    expect((await applyQuote(w, a, second.body.id, key)).body).toEqual(first.body);
  });

  it('a change whose subscription row stays locked is left to the mirror, which applies what Stripe reports', async () => {
    const a = await subscribedOnClock(w, { plan: 'pro', interval: 'month' });
    await advanceDays(w, a, 8);
    const q = await quote(w, a, { plan: 'business', interval: 'month' });
    // Something else (as the webhook mirror does while it re-reads Stripe) holds the row's lock.
    const holder = w.t.db.createQueryRunner();
    await holder.connect();
    await holder.startTransaction();
    try {
      await holder.query(`SELECT 1 FROM subscriptions WHERE stripe_subscription_id = $1 FOR UPDATE`, [
        a.subscriptionId,
      ]);
      const changed = await applyQuote(w, a, q.body.id);
      expect(changed.status).toBe(200);
      await expectChargedExactly(changed.body.quote);
      expect(changed.body.quote.status).toBe('applied');
    } finally {
      await holder.rollbackTransaction();
      await holder.release();
    }
    const row = await until(async () => {
      const r = await subscriptionRow(w, a.subscriptionId);
      return r.plan_id === 'business' ? r : null;
    }, 'the mirror applied the upgrade');
    expect(row.state).toBe('active');
    const audit = await w.t.db.query<{ after: { appliedBy?: string } }[]>(
      `SELECT after FROM audit_log WHERE account_id = $1 AND action = 'subscription.plan_change_applied'`,
      [a.accountId],
    );
    expect(audit.map((r) => r.after.appliedBy)).toEqual(['subscription_mirror']);
  });

  it('upgrade during past_due is refused with the pay-now action; pay-outstanding settles it (R-EDGE-2)', async () => {
    const a: ClockedAccount = await subscribedOnClock(w, { plan: 'pro', interval: 'month' });
    const failing = await w.stripe.paymentMethods.attach('pm_card_chargeCustomerFail', {
      customer: a.customerId,
    });
    await w.stripe.customers.update(a.customerId, {
      invoice_settings: { default_payment_method: failing.id },
    });
    await advanceDays(w, a, 31.5);
    await until(async () => (await subscriptionRow(w, a.subscriptionId)).state === 'past_due', 'past_due');

    const refused = await quote(w, a, { plan: 'business', interval: 'month' });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({
      code: 'outstanding_balance',
      details: { payNow: { method: 'POST', path: '/v1/subscription/pay-outstanding' } },
    });
    const hosted = (refused.body.error?.details?.payNow as { hostedInvoiceUrl: string | null })
      .hostedInvoiceUrl;
    expect(hosted).toMatch(/^https?:\/\//);

    // Paying needs an Idempotency-Key; a declined retry is 402 and leaves the invoice open.
    const noKey = await http(w.t.url, 'POST', '/v1/subscription/pay-outstanding', { token: a.owner });
    expect(noKey.status).toBe(400);
    const pay = (key = randomUUID()) =>
      http<{ invoices: { status: string; amountPaid: number }[] } & { error?: { code: string } }>(
        w.t.url,
        'POST',
        '/v1/subscription/pay-outstanding',
        { token: a.owner, headers: { 'idempotency-key': key } },
      );
    expect((await pay()).status).toBe(402);

    const visa = await w.stripe.paymentMethods.attach('pm_card_visa', { customer: a.customerId });
    await w.stripe.customers.update(a.customerId, { invoice_settings: { default_payment_method: visa.id } });
    // A new default card makes dunning retry the open invoice at once (R-DUN-4): pay-outstanding and that
    // retry race, and whichever comes second finds nothing to pay. Either way the invoice is paid once.
    await allWebhooksSettled(w); // the app knows the new default card
    const paid = await pay();
    const outcome = [
      paid.status,
      paid.status === 200 ? paid.body.invoices.map((i) => [i.status, i.amountPaid]) : paid.body.error?.code,
    ];
    expect([
      [200, [['paid', 2900]]],
      [409, 'no_outstanding_invoice'],
    ]).toContainEqual(outcome);
    await until(async () => (await subscriptionRow(w, a.subscriptionId)).state === 'active', 'active again');
    await allWebhooksSettled(w);
    const invoices = await w.stripe.invoices.list({ customer: a.customerId });
    expect(invoices.data.map((i) => [i.status, i.amount_paid])).toEqual([
      ['paid', 2900],
      ['paid', 2900],
    ]);
    expect((await pay()).body.error?.code).toBe('no_outstanding_invoice');
    await allWebhooksSettled(w);
    expect((await quote(w, a, { plan: 'business', interval: 'month' })).status).toBe(201);
  });

  it('lets only the owner quote and change; finance and support read quotes', async () => {
    const a = await subscribedOnClock(w, { plan: 'pro', interval: 'month' });
    const forbidden = await http(w.t.url, 'POST', '/v1/subscription/quotes', {
      token: a.member,
      body: { plan: 'business', interval: 'month' },
    });
    expect(forbidden.status).toBe(403);
    const q = await quote(w, a, { plan: 'business', interval: 'month' });
    const finance = await tokenFor({ sub: 'finance-1', role: 'finance' });
    const read = await http<{ id: string }>(
      w.t.url,
      'GET',
      `/v1/subscription/quotes/${q.body.id}?accountId=${a.accountId}`,
      { token: finance },
    );
    expect(read).toMatchObject({ status: 200, body: { id: q.body.id } });
    const change = await http(w.t.url, 'POST', '/v1/subscription/change', {
      token: finance,
      headers: { 'idempotency-key': randomUUID() },
      body: { quoteId: q.body.id },
    });
    expect(change.status).toBe(403);
    const other = await subscribedOnClock(w, { plan: 'pro', interval: 'month' });
    expect(
      (await http(w.t.url, 'GET', `/v1/subscription/quotes/${q.body.id}`, { token: other.owner })).status,
    ).toBe(404);
  });
});
