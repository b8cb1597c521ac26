import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import type Stripe from 'stripe';
import { RunReconciliationHandler } from '../../apps/billing-api/src/modules/reconciliation/commands/run-reconciliation/run-reconciliation.handler.js';
import { startStripeWorld, type StripeWorld } from '../support/stripe-world.js';
import { http, tokenFor } from '../support/test-app.js';
import { createCatalogue } from './stripe-mirrors.support.js';
import {
  dashboard,
  emulatorAdmin,
  findingsOf,
  reconcile,
  reconciliationAudits,
  webhooksSettled,
  type FindingBody,
  type RunBody,
} from './reconciliation.support.js';
import { createAccount, metricValue, until } from './webhooks.support.js';

interface SubscriptionRow {
  id: string;
  state: string;
  stripe_status: string;
  seats: number;
  plan_id: string | null;
  cancel_at_period_end: boolean;
  current_period_end: Date | null;
}

// The real app (api + worker) fed by the emulator's webhooks; drift is made by dropping webhooks with
// the emulator's chaos switch and by changing objects "in the dashboard" without an event.
describe('reconciliation (R-REC): drift of every kind detected, safe repaired, unsafe left for an admin', () => {
  let w: StripeWorld;
  let prices: Awaited<ReturnType<typeof createCatalogue>>;
  const windowStart = new Date(Date.now() - 60 * 60 * 1000);
  /** Each run gets its own window end (one run per window), a little ahead so that nothing is cut off. */
  let runs = 0;
  const nextWindow = () => ({ from: windowStart, to: new Date(Date.now() + 2000 + ++runs) });

  beforeAll(async () => {
    w = await startStripeWorld();
    prices = await createCatalogue(w.stripe);
  });
  afterAll(async () => {
    await w?.close();
  });

  async function customerWithCard(): Promise<{ accountId: string; customer: Stripe.Customer }> {
    const accountId = await createAccount(w.t.url, w.admin);
    const customer = await w.stripe.customers.create({
      email: 'o@example.test',
      metadata: { account_id: accountId },
    });
    const pm = await w.stripe.paymentMethods.attach('pm_card_visa', { customer: customer.id });
    await w.stripe.customers.update(customer.id, { invoice_settings: { default_payment_method: pm.id } });
    return { accountId, customer };
  }

  async function subscribed(
    items: Stripe.SubscriptionCreateParams.Item[] = [{ price: prices.proMonth }],
  ): Promise<Stripe.Subscription> {
    const { customer } = await customerWithCard();
    return w.stripe.subscriptions.create({ customer: customer.id, items });
  }

  async function row(stripeId: string): Promise<SubscriptionRow | undefined> {
    const rows = await w.t.db.query<SubscriptionRow[]>(
      `SELECT id, state, stripe_status, seats, plan_id, cancel_at_period_end, current_period_end
         FROM subscriptions WHERE stripe_subscription_id = $1`,
      [stripeId],
    );
    return rows[0];
  }

  async function withWebhooksDropped<T>(fn: () => Promise<T>): Promise<T> {
    await emulatorAdmin(w, '/_emulator/chaos', { webhookDropRate: 1 });
    try {
      return await fn();
    } finally {
      await emulatorAdmin(w, '/_emulator/chaos', { webhookDropRate: 0 });
    }
  }

  let baseline: RunBody;
  it('finds nothing while the mirrors are in step', async () => {
    await subscribed();
    await subscribed([{ price: prices.proMonth }, { price: prices.proMonthSeat, quantity: 2 }]);
    await webhooksSettled(w);
    baseline = await reconcile(w, nextWindow());
    expect(baseline.status).toBe('completed');
    expect(baseline.findings).toEqual([]);
    expect(baseline.stats.compared.subscription).toBeGreaterThanOrEqual(2);
    expect(baseline.stats.compared.invoice).toBeGreaterThanOrEqual(2);
  });

  describe('safe drifts (the app is behind Stripe)', () => {
    type Name = 'pastDue' | 'cancelAtEnd' | 'periodEnd' | 'moreSeats' | 'plan' | 'lost';
    const subs = {} as Record<Name, Stripe.Subscription>;
    let lostInvoice: string;
    let payment: Stripe.PaymentIntent;
    let refunded: Stripe.PaymentIntent;
    let run: RunBody;
    let lostBeforeRun: SubscriptionRow | undefined;

    beforeAll(async () => {
      subs.pastDue = await subscribed();
      subs.cancelAtEnd = await subscribed();
      subs.periodEnd = await subscribed();
      subs.moreSeats = await subscribed([
        { price: prices.proMonth },
        { price: prices.proMonthSeat, quantity: 2 },
      ]);
      subs.plan = await subscribed();
      const { customer } = await customerWithCard();
      payment = await w.stripe.paymentIntents.create({
        amount: 4200,
        currency: 'usd',
        customer: customer.id,
      });
      refunded = await w.stripe.paymentIntents.create({
        amount: 3000,
        currency: 'usd',
        customer: customer.id,
        payment_method: 'pm_card_visa',
        confirm: true,
      });
      await webhooksSettled(w);

      // Changes made at Stripe whose webhooks never arrive.
      subs.lost = await withWebhooksDropped(() => subscribed());
      lostInvoice = subs.lost.latest_invoice as string;
      await withWebhooksDropped(async () => {
        await w.stripe.paymentIntents.confirm(payment.id, { payment_method: 'pm_card_visa' });
        await w.stripe.refunds.create({ payment_intent: refunded.id, amount: 1000 });
        await until(
          async () =>
            (await w.stripe.refunds.list({ payment_intent: refunded.id })).data[0]?.status === 'succeeded',
          'the refund to settle at Stripe',
        );
      });
      // Changes made in the dashboard, without an event.
      await dashboard(w, 'subscriptions', subs.pastDue.id, { status: 'past_due' });
      await dashboard(w, 'subscriptions', subs.cancelAtEnd.id, { cancel_at_period_end: true });
      const periodEnd = (subs.periodEnd.items.data[0]?.current_period_end ?? 0) + 86_400;
      await dashboard(w, 'subscriptions', subs.periodEnd.id, { items: [{ current_period_end: periodEnd }] });
      await dashboard(w, 'subscriptions', subs.moreSeats.id, { items: [{}, { quantity: 5 }] });
      await dashboard(w, 'subscriptions', subs.plan.id, { items: [{ price: prices.businessYear }] });
      await webhooksSettled(w);
      lostBeforeRun = await row(subs.lost.id);
      run = await reconcile(w, nextWindow());
    });

    it('detects each with the right kind, and repairs it', () => {
      expect(lostBeforeRun).toBeUndefined();
      expect(run.status).toBe('completed');
      expect(findingsOf(run, subs.lost.id)).toEqual(['missing_in_app:repaired']);
      expect(findingsOf(run, lostInvoice)).toEqual(['missing_in_app:repaired']);
      expect(findingsOf(run, subs.pastDue.id)).toEqual(['status:repaired']);
      expect(findingsOf(run, subs.cancelAtEnd.id)).toEqual(['cancel_at_period_end:repaired']);
      expect(findingsOf(run, subs.periodEnd.id)).toEqual(['period_end:repaired']);
      expect(findingsOf(run, subs.moreSeats.id)).toEqual(['seats:repaired']);
      expect(findingsOf(run, subs.plan.id)).toEqual(['plan:repaired']);
      expect(findingsOf(run, payment.id)).toEqual(['payment_status:repaired']);
      expect(findingsOf(run, refunded.id)).toEqual(['amount_refunded:repaired']);
      expect(run.findings.every((f) => f.safe)).toBe(true);
      expect(run.stats.awaitingAdmin).toBe(0);
    });

    it('brought the mirrors to Stripe through the machine, audited as reconciliation', async () => {
      expect(await row(subs.lost.id)).toMatchObject({ state: 'active', stripe_status: 'active' });
      expect(await row(subs.pastDue.id)).toMatchObject({ state: 'past_due', stripe_status: 'past_due' });
      expect(await row(subs.cancelAtEnd.id)).toMatchObject({
        state: 'canceled_pending',
        cancel_at_period_end: true,
      });
      expect(await row(subs.moreSeats.id)).toMatchObject({ seats: 5 });
      expect(await row(subs.plan.id)).toMatchObject({ plan_id: 'business' });
      const periodEnd = (await row(subs.periodEnd.id))?.current_period_end?.getTime();
      expect(periodEnd).toBe(((subs.periodEnd.items.data[0]?.current_period_end ?? 0) + 86_400) * 1000);
      const [paid] = await w.t.db.query<{ status: string; amount_refunded: string }[]>(
        `SELECT status, amount_refunded::text FROM payments WHERE stripe_payment_intent_id = $1`,
        [payment.id],
      );
      expect(paid?.status).toBe('succeeded');
      const [partly] = await w.t.db.query<{ status: string; amount_refunded: string }[]>(
        `SELECT status, amount_refunded::text FROM payments WHERE stripe_payment_intent_id = $1`,
        [refunded.id],
      );
      expect(partly).toEqual({ status: 'partially_refunded', amount_refunded: '1000' });

      const pastDueRow = await row(subs.pastDue.id);
      const actions = await reconciliationAudits(w.t.db, pastDueRow?.id ?? '');
      expect(actions).toContain('subscription.state_changed');
      expect(await reconciliationAudits(w.t.db, subs.periodEnd.id)).toEqual([
        'reconciliation.drift_repaired',
      ]);
    });

    it('a second run finds nothing', async () => {
      const again = await reconcile(w, nextWindow());
      expect(again.status).toBe('completed');
      expect(again.findings).toEqual([]);
    });
  });

  describe('unsafe drifts (the app grants what Stripe does not bill; amounts disagree)', () => {
    let canceled: Stripe.Subscription;
    let fewerSeats: Stripe.Subscription;
    let invoiceId: string;
    let paymentId: string;
    let ghost: string;
    let run: RunBody;
    const finding = (stripeId: string, kind: string): FindingBody => {
      const found = run.findings.find((f) => f.stripeId === stripeId && f.kind === kind);
      if (!found) throw new Error(`no ${kind} finding about ${stripeId}: ${JSON.stringify(run.findings)}`);
      return found;
    };

    beforeAll(async () => {
      canceled = await subscribed();
      fewerSeats = await subscribed([
        { price: prices.proMonth },
        { price: prices.proMonthSeat, quantity: 3 },
      ]);
      const other = await subscribed();
      invoiceId = other.latest_invoice as string;
      const { customer } = await customerWithCard();
      const pi = await w.stripe.paymentIntents.create({
        amount: 5000,
        currency: 'usd',
        customer: customer.id,
        payment_method: 'pm_card_visa',
        confirm: true,
      });
      paymentId = pi.id;
      await webhooksSettled(w);
      await dashboard(w, 'subscriptions', canceled.id, { status: 'canceled' });
      await dashboard(w, 'subscriptions', fewerSeats.id, { items: [{}, { quantity: 1 }] });
      const invoice = await w.stripe.invoices.retrieve(invoiceId);
      await dashboard(w, 'invoices', invoiceId, { amount_paid: invoice.amount_paid - 100 });
      await dashboard(w, 'payment_intents', paymentId, { amount: 4000 });
      // The app mirrors a subscription Stripe never had.
      ghost = `sub_ghost${randomUUID().replace(/-/g, '').slice(0, 16)}`;
      await w.t.db.query(
        `INSERT INTO subscriptions
         SELECT (jsonb_populate_record(NULL::subscriptions,
                  to_jsonb(s) || jsonb_build_object('id', gen_random_uuid(), 'stripe_subscription_id', $2::text))).*
           FROM subscriptions s WHERE stripe_subscription_id = $1`,
        [other.id, ghost],
      );
      run = await reconcile(w, nextWindow());
    });

    it('detects each with the right kind and leaves it open, unrepaired', async () => {
      expect(run.status).toBe('completed');
      expect(finding(canceled.id, 'status')).toMatchObject({ safe: false, status: 'open' });
      expect(finding(fewerSeats.id, 'seats')).toMatchObject({ safe: false, status: 'open' });
      expect(finding(invoiceId, 'invoice_amount')).toMatchObject({ safe: false, status: 'open' });
      expect(finding(paymentId, 'payment_amount')).toMatchObject({ safe: false, status: 'open' });
      expect(finding(ghost, 'missing_in_stripe')).toMatchObject({ safe: false, status: 'open' });
      expect(run.stats.repaired).toBe(0);
      expect(await row(canceled.id)).toMatchObject({ state: 'active', stripe_status: 'active' });
      expect(await row(fewerSeats.id)).toMatchObject({ seats: 3 });
    });

    it('raises the alert: the unsafe counter and the awaiting gauge', async () => {
      expect(
        await metricValue(w.t.url, 'billing_drift_unsafe_found_total', 'kind="status"'),
      ).toBeGreaterThanOrEqual(1);
      expect(await metricValue(w.t.url, 'billing_drift_awaiting_admin')).toBe(5);
      expect(await metricValue(w.t.url, 'billing_drift_findings', 'kind="seats",safe="false"')).toBe(1);
    });

    it('an admin applies Stripe or dismisses, audited with the note; a resolved finding cannot be resolved again', async () => {
      const resolve = (id: string, action: string, note: string) =>
        http<{ status: string; resolutionNote: string }>(
          w.t.url,
          'POST',
          `/v1/admin/reconciliation/findings/${id}/resolve`,
          { token: w.admin, body: { action, note } },
        );
      const applied = await resolve(
        finding(canceled.id, 'status').id,
        'apply_stripe',
        'Canceled in the dashboard by sales',
      );
      expect(applied.status).toBe(200);
      expect(applied.body).toMatchObject({
        status: 'applied',
        resolutionNote: 'Canceled in the dashboard by sales',
      });
      expect(await row(canceled.id)).toMatchObject({ state: 'expired', stripe_status: 'canceled' });
      for (const [id, kind] of [
        [fewerSeats.id, 'seats'],
        [invoiceId, 'invoice_amount'],
        [paymentId, 'payment_amount'],
      ] as const) {
        expect((await resolve(finding(id, kind).id, 'apply_stripe', 'Stripe is right')).status).toBe(200);
      }
      expect(await row(fewerSeats.id)).toMatchObject({ seats: 1 });
      const ghostFinding = finding(ghost, 'missing_in_stripe').id;
      expect((await resolve(ghostFinding, 'apply_stripe', 'try')).status).toBe(409);
      expect((await resolve(ghostFinding, 'dismiss', 'Test data; removed by hand')).status).toBe(200);
      expect((await resolve(ghostFinding, 'dismiss', 'again')).status).toBe(409);
      expect((await resolve(randomUUID(), 'dismiss', 'nothing')).status).toBe(404);
      expect((await resolve(ghostFinding, 'ignore', 'x')).status).toBe(400);

      const audits = await w.t.db.query<{ action: string; actor_type: string; reason: string }[]>(
        `SELECT action, actor_type, reason FROM audit_log WHERE entity_id = $1`,
        [ghostFinding],
      );
      expect(audits).toEqual([
        {
          action: 'reconciliation.finding_dismissed',
          actor_type: 'user',
          reason: 'Test data; removed by hand',
        },
      ]);
      expect(await metricValue(w.t.url, 'billing_drift_awaiting_admin')).toBe(0);

      await w.t.db.query(`DELETE FROM subscriptions WHERE stripe_subscription_id = $1`, [ghost]);
      const again = await reconcile(w, nextWindow());
      expect(again.findings).toEqual([]);
    });
  });

  it('two workers claiming one window run it once', async () => {
    const handler = w.t.app.get(RunReconciliationHandler, { strict: false });
    const window = { start: windowStart, end: new Date(Date.now() + 1500) };
    const [a, b] = await Promise.all([
      handler.execute(window, 'schedule'),
      handler.execute(window, 'schedule'),
    ]);
    expect([a.created, b.created].sort()).toEqual([false, true]);
    expect(a.run.id).toBe(b.run.id);
    const [count] = await w.t.db.query<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM reconciliation_runs WHERE window_start = $1 AND window_end = $2`,
      [window.start, window.end],
    );
    expect(count?.n).toBe(1);
    // The same window asked through the API answers the same run.
    const asked = await http<RunBody>(w.t.url, 'POST', '/v1/admin/reconciliation/runs', {
      token: w.admin,
      body: { from: window.start.toISOString(), to: window.end.toISOString() },
    });
    expect(asked.status).toBe(202);
    expect(asked.body.id).toBe(a.run.id);
  });

  it('lists runs newest first and refuses bad requests', async () => {
    const list = await http<{ data: RunBody[] }>(w.t.url, 'GET', '/v1/admin/reconciliation/runs?limit=2', {
      token: w.admin,
    });
    expect(list.status).toBe(200);
    expect(list.body.data).toHaveLength(2);
    const bad = await http(w.t.url, 'POST', '/v1/admin/reconciliation/runs', {
      token: w.admin,
      body: { from: new Date().toISOString(), to: windowStart.toISOString() },
    });
    expect(bad.status).toBe(400);
    const user = await http(w.t.url, 'GET', '/v1/admin/reconciliation/runs', {
      token: await tokenFor({ sub: 'u', role: 'owner', accountId: randomUUID() }),
    });
    expect(user.status).toBe(403);
    expect(
      (await http(w.t.url, 'GET', `/v1/admin/reconciliation/runs/${randomUUID()}`, { token: w.admin }))
        .status,
    ).toBe(404);
  });
});
