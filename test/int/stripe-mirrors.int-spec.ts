import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type Stripe from 'stripe';
import { CustomerMirrorHandler } from '../../apps/billing-api/src/modules/accounts/webhook-handlers/customer-mirror.handler.js';
import { InvoiceEventsHandler } from '../../apps/billing-api/src/modules/invoices/webhooks/invoice-events.handler.js';
import { PaymentsFacade } from '../../apps/billing-api/src/modules/payments/payments.facade.js';
import { PaymentEventsHandler } from '../../apps/billing-api/src/modules/payments/webhooks/payment-events.handler.js';
import { PaymentMethodEventsHandler } from '../../apps/billing-api/src/modules/payments/webhooks/payment-method-events.handler.js';
import { RefundsFacade } from '../../apps/billing-api/src/modules/refunds/refunds.facade.js';
import { RefundEventsHandler } from '../../apps/billing-api/src/modules/refunds/webhooks/refund-events.handler.js';
import { SubscriptionsFacade } from '../../apps/billing-api/src/modules/subscriptions/subscriptions.facade.js';
import { SubscriptionEventsHandler } from '../../apps/billing-api/src/modules/subscriptions/webhooks/subscription-events.handler.js';
import {
  PermanentEventError,
  type StripeEventOutcome,
} from '../../apps/billing-api/src/modules/webhooks/contracts/stripe-event-handler.js';
import { OnDomainEvent, type DomainEvent } from '../../apps/billing-api/src/platform/events/domain-event.js';
import { startTestEmulator, type TestEmulator } from '../../apps/stripe-emulator/src/core/test-kit.js';
import { startTestApp, tokenFor, type TestApp } from '../support/test-app.js';
import {
  about,
  auditActions,
  createCatalogue,
  eventsOf,
  HandlerRunner,
  oneOfType,
  only,
} from './stripe-mirrors.support.js';
import { createAccount, SECRET, until } from './webhooks.support.js';

/** Keeps every subscription event the machine publishes, to look at what a handler announced. */
@Injectable()
class SubscriptionEventLog {
  readonly heard: DomainEvent[] = [];

  @OnDomainEvent(
    'subscription.activated',
    'subscription.cancellation_scheduled',
    'subscription.canceled',
    'subscription.plan_changed',
    'subscription.plan_change_scheduled',
    'subscription.seats_changed',
    'subscription.renewed',
  )
  heardOf(event: DomainEvent): void {
    this.heard.push(event);
  }

  about(subscriptionId: string): { type: string; payload: Record<string, unknown> }[] {
    return this.heard
      .map((e) => ({ type: e.type, payload: e.payload as unknown as Record<string, unknown> }))
      .filter((e) => e.payload.stripeSubscriptionId === subscriptionId);
  }
}

// The mirror handlers called directly, each inside a real transaction, on events the emulator really
// produced; `refetch` goes through the app's real Stripe gateway to the same emulator.
describe('Stripe mirrors: handlers on real events, real PostgreSQL, re-reads through the gateway', () => {
  let kit: TestEmulator;
  let t: TestApp;
  let stripe: Stripe;
  let run: HandlerRunner;
  let subs: SubscriptionEventsHandler;
  let payments: PaymentEventsHandler;
  let methods: PaymentMethodEventsHandler;
  let refunds: RefundEventsHandler;
  let invoices: InvoiceEventsHandler;
  let customers: CustomerMirrorHandler;
  let prices: Awaited<ReturnType<typeof createCatalogue>>;
  const key = `sk_test_${randomUUID().replace(/-/g, '')}`;
  // Each handler's entry point, run as HandlerRunner.run runs it (`at` overrides the event's `created`).
  type Handle = (event: Stripe.Event, at?: number) => Promise<StripeEventOutcome | undefined>;
  const onSub: Handle = (e, at) => run.run((ev, c) => subs.onSubscription(ev, c), e, at);
  const onCheckout: Handle = (e, at) => run.run((ev, c) => subs.onCheckoutCompleted(ev, c), e, at);
  const onPaymentIntent: Handle = (e, at) => run.run((ev, c) => payments.onPaymentIntent(ev, c), e, at);
  const onPaymentMethod: Handle = (e, at) => run.run((ev, c) => methods.onPaymentMethod(ev, c), e, at);
  const onRefund: Handle = (e, at) => run.run((ev, c) => refunds.onRefund(ev, c), e, at);
  const onInvoice: Handle = (e, at) => run.run((ev, c) => invoices.onInvoice(ev, c), e, at);

  beforeAll(async () => {
    kit = await startTestEmulator();
    t = await startTestApp({
      role: 'all',
      env: { STRIPE_API_BASE: kit.emulator.url, STRIPE_SECRET_KEY: key, STRIPE_WEBHOOK_SECRETS: SECRET },
      providers: [SubscriptionEventLog],
    });
    stripe = kit.client({ key }).stripe;
    run = new HandlerRunner(t);
    const get = <T>(cls: new (...args: never[]) => T): T => t.app.get(cls, { strict: false });
    subs = get(SubscriptionEventsHandler);
    payments = get(PaymentEventsHandler);
    methods = get(PaymentMethodEventsHandler);
    refunds = get(RefundEventsHandler);
    invoices = get(InvoiceEventsHandler);
    customers = get(CustomerMirrorHandler);
    prices = await createCatalogue(stripe);
  });
  afterAll(async () => {
    await t?.close();
    await kit?.close();
  });

  /** A new account of the app, made through its API by an admin. */
  async function newAccount(): Promise<string> {
    return createAccount(t.url, await tokenFor({ sub: 'admin', role: 'admin' }));
  }

  /** Attaches a card to the customer and makes it the default for its invoices. */
  async function attachDefaultCard(customerId: string, card = 'pm_card_visa'): Promise<Stripe.PaymentMethod> {
    const pm = await stripe.paymentMethods.attach(card, { customer: customerId });
    await stripe.customers.update(customerId, { invoice_settings: { default_payment_method: pm.id } });
    return pm;
  }

  /** An account whose Stripe customer is linked by the customer mirror (as in production). */
  async function linkedCustomer(
    card = 'pm_card_visa',
  ): Promise<{ accountId: string; customer: Stripe.Customer; pm: string }> {
    const accountId = await newAccount();
    const customer = await stripe.customers.create({
      email: 'o@example.test',
      metadata: { account_id: accountId },
    });
    const created = only(
      about(await eventsOf(stripe, ['customer.created']), customer.id),
      'customer.created',
    );
    await run.run((e, c) => customers.handle(e, c), created);
    const pm = await attachDefaultCard(customer.id, card);
    return { accountId, customer, pm: pm.id };
  }

  /** A subscription of the customer, by default to the monthly Pro plan. */
  function subscribe(
    customerId: string,
    items: Stripe.SubscriptionCreateParams.Item[] = [{ price: prices.proMonth }],
  ): Promise<Stripe.Subscription> {
    return stripe.subscriptions.create({ customer: customerId, items });
  }

  /** A USD PaymentIntent, confirmed at once with the customer's payment method. */
  function confirmedPayment(
    customerId: string,
    paymentMethod: string,
    amount: number,
    extra: Partial<Stripe.PaymentIntentCreateParams> = {},
  ): Promise<Stripe.PaymentIntent> {
    return stripe.paymentIntents.create({
      amount,
      currency: 'usd',
      customer: customerId,
      payment_method: paymentMethod,
      confirm: true,
      ...extra,
    });
  }

  /** The one event of `type` about the object, among all the account's events so far. */
  async function eventAbout(objectId: string, type: string): Promise<Stripe.Event> {
    return only(about(await eventsOf(stripe), objectId, type), type);
  }

  /** The events of a refund once its `refund.updated` (it settled) is among them. */
  async function settledRefundEvents(refundId: string): Promise<Stripe.Event[]> {
    return until(async () => {
      const list = about(await eventsOf(stripe), refundId);
      return list.some((e) => e.type === 'refund.updated') ? list : null;
    }, `refund ${refundId} settled`);
  }

  /** The app's view of the payment mirrored from the PaymentIntent (null if none). */
  function mirroredPayment(paymentIntentId: string) {
    return t.app.get(PaymentsFacade).findByPaymentIntent(paymentIntentId);
  }

  /** A Checkout session of the customer for one unit of the price, referencing the account. */
  function checkoutSession(
    mode: 'subscription' | 'payment',
    accountId: string,
    customerId: string,
    price: string,
  ): Promise<Stripe.Checkout.Session> {
    return stripe.checkout.sessions.create({
      mode,
      customer: customerId,
      client_reference_id: accountId,
      line_items: [{ price, quantity: 1 }],
      success_url: 'https://app.test/ok',
      cancel_url: 'https://app.test/cancel',
    });
  }

  /** Pays a Checkout session on the emulator's hosted page; its events once `completed` is among them. */
  async function completeCheckout(
    sessionId: string,
  ): Promise<{ events: Stripe.Event[]; completed: Stripe.Event }> {
    const done = await fetch(`${kit.emulator.url}/_emulator/checkout/${sessionId}/complete`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'payment_method=pm_card_visa',
    });
    expect(done.status).toBeLessThan(400);
    const events = await until(async () => {
      const list = await eventsOf(stripe);
      return about(list, sessionId, 'checkout.session.completed').length === 1 ? list : null;
    }, 'checkout.session.completed');
    return { events, completed: only(about(events, sessionId, 'checkout.session.completed'), 'completed') };
  }

  async function subscriptionRow(stripeId: string) {
    const rows: Record<string, unknown>[] = await t.db.query(
      `SELECT * FROM subscriptions WHERE stripe_subscription_id = $1`,
      [stripeId],
    );
    return rows;
  }

  describe('subscriptions', () => {
    it('upserts, derives the app state, audits each change with the event as actor', async () => {
      const { accountId, customer } = await linkedCustomer();
      const sub = await subscribe(customer.id, [
        { price: prices.proMonth },
        { price: prices.proMonthSeat, quantity: 2 },
      ]);
      const events = about(await eventsOf(stripe), sub.id);
      const created = oneOfType(events, 'customer.subscription.created');
      const active = oneOfType(events, 'customer.subscription.updated');
      const base = created.created;

      expect(await onSub(created, base)).toBe('applied');
      expect(await onSub(active, base + 1)).toBe('applied');

      const view = await t.app.get(SubscriptionsFacade).findByStripeId(sub.id);
      const item = sub.items.data.find((i) => i.price.id === prices.proMonth)!;
      expect(view).toMatchObject({
        accountId,
        stripeStatus: 'active',
        state: 'active',
        planId: 'pro',
        interval: 'month',
        seats: 2,
        cancelAtPeriodEnd: false,
        currentPeriodEnd: new Date(item.current_period_end * 1000).toISOString(),
      });
      const audit = await auditActions(t.db, view!.id);
      expect(audit.map((a) => a.action)).toEqual(['subscription.mirrored', 'subscription.state_changed']);
      expect(audit[1]).toMatchObject({
        actor_type: 'stripe_event',
        actor_id: active.id,
        before: expect.objectContaining({ state: 'free', stripeStatus: 'incomplete' }),
        after: expect.objectContaining({ state: 'active', stripeStatus: 'active' }),
      });
    });

    it('moves the app state only through the machine, and publishes what it did', async () => {
      const { customer } = await linkedCustomer();
      const sub = await subscribe(customer.id, [
        { price: prices.proMonth },
        { price: prices.proMonthSeat, quantity: 2 },
      ]);
      const events = about(await eventsOf(stripe), sub.id);
      const base = oneOfType(events, 'customer.subscription.created').created;
      await onSub(oneOfType(events, 'customer.subscription.created'), base);
      await onSub(oneOfType(events, 'customer.subscription.updated'), base + 1);
      const row = (await subscriptionRow(sub.id))[0]!;
      const log = t.app.get(SubscriptionEventLog);
      expect(log.about(sub.id)).toEqual([
        {
          type: 'subscription.activated',
          payload: expect.objectContaining({
            subscriptionId: row.id,
            fromState: 'free',
            toState: 'active',
            planId: 'pro',
            interval: 'month',
            seats: 2,
          }),
        },
      ]);

      await stripe.subscriptions.update(sub.id, { cancel_at_period_end: true });
      const scheduled = about(await eventsOf(stripe), sub.id).filter(
        (e) => e.type === 'customer.subscription.updated',
      )[1]!;
      await onSub(scheduled, base + 2);
      expect(log.about(sub.id).map((e) => e.type)).toEqual([
        'subscription.activated',
        'subscription.cancellation_scheduled',
      ]);
      expect((await subscriptionRow(sub.id))[0]).toMatchObject({ state: 'canceled_pending', version: 3 });
    });

    it('refuses a state no transition reaches: recorded and left for reconciliation, not applied', async () => {
      const { customer } = await linkedCustomer();
      const sub = await subscribe(customer.id);
      const events = about(await eventsOf(stripe), sub.id);
      const active = oneOfType(events, 'customer.subscription.updated');
      await onSub(oneOfType(events, 'customer.subscription.created'), active.created);
      await onSub(active, active.created + 1);
      const id = String((await subscriptionRow(sub.id))[0]!.id);
      // An active subscription reported as never paid: no transition leads from active to Free.
      const impossible = structuredClone(active);
      (impossible.data.object as { status: string }).status = 'incomplete_expired';
      expect(await onSub(impossible, active.created + 5)).toBe('applied');
      expect((await subscriptionRow(sub.id))[0]).toMatchObject({
        state: 'active',
        plan_id: 'pro',
        stripe_status: 'incomplete_expired',
      });
      const audit = await t.db.query<{ action: string; before: unknown; after: unknown; reason: string }[]>(
        `SELECT action, before, after, reason FROM audit_log WHERE entity_id = $1 ORDER BY id`,
        [id],
      );
      expect(audit.at(-2)).toMatchObject({ action: 'subscription.updated' });
      expect(audit.at(-1)).toEqual({
        action: 'subscription.transition_refused',
        before: { state: 'active' },
        after: { state: 'free', input: null },
        reason: "invalid_transition: Stripe reports 'free', which no transition reaches from 'active'",
      });
      const metrics = await (await fetch(`${t.url}/metrics`)).text();
      expect(metrics).toMatch(
        /billing_subscription_transitions_refused_total\{from="active",to="free"\} [1-9]/,
      );
    });

    it('keeps the tier of a downgrade Stripe made until the period ends, and applies it at the renewal', async () => {
      const { customer } = await linkedCustomer();
      const sub = await subscribe(customer.id, [{ price: prices.businessYear }]);
      const events = about(await eventsOf(stripe), sub.id);
      const active = oneOfType(events, 'customer.subscription.updated');
      await onSub(oneOfType(events, 'customer.subscription.created'), active.created);
      await onSub(active, active.created + 1);
      const periodEnd = (await subscriptionRow(sub.id))[0]!.current_period_end as Date;
      // The Stripe subscription now bills Pro yearly (a downgrade made in Stripe's dashboard; another
      // interval would have restarted the billing cycle and applies at once).
      const downgraded = structuredClone(active);
      const item = (downgraded.data.object as Stripe.Subscription).items.data[0]!;
      item.price = { ...item.price, id: prices.proYear, lookup_key: 'pro_year_base' };
      await onSub(downgraded, active.created + 2);
      expect((await subscriptionRow(sub.id))[0]).toMatchObject({
        state: 'active',
        plan_id: 'business',
        billing_interval: 'year',
        pending_plan_id: 'pro',
        pending_interval: 'year',
        pending_effective_at: periodEnd,
      });
      // The renewal: a later period end, reported active. The scheduled plan takes over.
      const renewed = structuredClone(downgraded);
      const renewedItem = (renewed.data.object as Stripe.Subscription).items.data[0]!;
      renewedItem.current_period_end = Math.floor(periodEnd.getTime() / 1000) + 365 * 86_400;
      await onSub(renewed, Math.floor(periodEnd.getTime() / 1000) + 60);
      expect((await subscriptionRow(sub.id))[0]).toMatchObject({
        state: 'active',
        plan_id: 'pro',
        billing_interval: 'year',
        pending_plan_id: null,
      });
      expect(
        t.app
          .get(SubscriptionEventLog)
          .about(sub.id)
          .map((e) => e.type),
      ).toEqual([
        'subscription.activated',
        'subscription.plan_change_scheduled',
        'subscription.renewed',
        'subscription.plan_changed',
      ]);
    });

    it('skips an older event, re-reads on a same-second tie, and a duplicate changes nothing', async () => {
      const { customer } = await linkedCustomer();
      const sub = await subscribe(customer.id);
      await stripe.subscriptions.update(sub.id, { cancel_at_period_end: true });
      const events = about(await eventsOf(stripe), sub.id);
      const [activeEvent, cancelEvent] = events.filter((e) => e.type === 'customer.subscription.updated');
      if (!activeEvent || !cancelEvent) throw new Error('missing events');
      const base = activeEvent.created;

      expect(await onSub(cancelEvent, base + 10)).toBe('applied');
      expect((await subscriptionRow(sub.id))[0]).toMatchObject({ state: 'canceled_pending' });
      const auditBefore = (await auditActions(t.db, String((await subscriptionRow(sub.id))[0]!.id))).length;

      // Older than what was applied: never moves the state backwards (R-SM-3).
      expect(await onSub(activeEvent, base + 5)).toBe('skipped_stale');
      expect((await subscriptionRow(sub.id))[0]).toMatchObject({ state: 'canceled_pending' });

      // Same second as the applied one: the order is undecidable, so Stripe is asked. Stripe now says
      // canceled at period end, so the stale payload's "active" is not applied.
      const before = run.refetched.length;
      expect(await onSub(activeEvent, base + 10)).toBe('applied');
      expect(run.refetched.slice(before)).toEqual([sub.id]);
      expect((await subscriptionRow(sub.id))[0]).toMatchObject({
        state: 'canceled_pending',
        cancel_at_period_end: true,
      });

      // A duplicate delivery of the applied event: no second effect, no second audit record.
      expect(await onSub(cancelEvent, base + 10)).toBe('applied');
      const id = String((await subscriptionRow(sub.id))[0]!.id);
      expect((await auditActions(t.db, id)).length).toBe(auditBefore);

      // Resumed, then canceled now: a same-second re-read applies what Stripe says at that moment.
      await stripe.subscriptions.update(sub.id, { cancel_at_period_end: false });
      await stripe.subscriptions.cancel(sub.id);
      const deleted = await eventAbout(sub.id, 'customer.subscription.deleted');
      expect(await onSub(activeEvent, base + 10)).toBe('applied');
      expect((await subscriptionRow(sub.id))[0]).toMatchObject({
        state: 'canceled_immediately',
        stripe_status: 'canceled',
      });
      expect(await onSub(deleted, base + 20)).toBe('applied');
      const audit = await auditActions(t.db, id);
      expect(audit.at(-1)).toMatchObject({
        action: 'subscription.state_changed',
        before: expect.objectContaining({ state: 'canceled_pending' }),
        after: expect.objectContaining({ state: 'canceled_immediately' }),
      });
      // The deletion event found the state already applied by the re-read: recorded once only.
      expect(
        audit.filter((a) => (a.after as { state?: string }).state === 'canceled_immediately'),
      ).toHaveLength(1);
    });

    it('checkout callback webhook first, then the subscription events: one row under the session account (R-SUB-2)', async () => {
      const accountId = await newAccount();
      // A customer Checkout made: not linked to the account, no account in its metadata.
      const customer = await stripe.customers.create({ email: 'new@example.test' });
      const session = await checkoutSession('subscription', accountId, customer.id, prices.proMonth);
      const { events, completed } = await completeCheckout(session.id);
      const subId = (completed.data.object as Stripe.Checkout.Session).subscription as string;
      const subEvents = about(events, subId);
      expect(await onCheckout(completed)).toBe('applied');
      for (const e of subEvents) await onSub(e);
      const rows = await subscriptionRow(subId);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ account_id: accountId, state: 'active', plan_id: 'pro' });
    });

    it('ignores the subscriptions of customers that belong to no account', async () => {
      const customer = await stripe.customers.create({ email: 'stranger@example.test' });
      await attachDefaultCard(customer.id);
      const sub = await subscribe(customer.id);
      for (const e of about(await eventsOf(stripe), sub.id)) {
        expect(await onSub(e)).toBe('ignored');
      }
      expect(await subscriptionRow(sub.id)).toHaveLength(0);
    });

    it('files a subscription under the account in its customer metadata before customer.created is processed', async () => {
      const accountId = await newAccount();
      const customer = await stripe.customers.create({ metadata: { account_id: accountId } });
      await attachDefaultCard(customer.id);
      const sub = await subscribe(customer.id, [{ price: prices.businessYear }]);
      const created = await eventAbout(sub.id, 'customer.subscription.created');
      const before = run.refetched.length;
      expect(await onSub(created)).toBe('applied');
      expect(run.refetched.slice(before)).toEqual([customer.id]);
      expect((await subscriptionRow(sub.id))[0]).toMatchObject({
        account_id: accountId,
        plan_id: 'business',
        billing_interval: 'year',
      });
    });
  });

  describe('payments and payment methods', () => {
    it('mirrors a payment: status machine, history per change, card summary, audit', async () => {
      const { accountId, customer, pm } = await linkedCustomer();
      const pi = await confirmedPayment(customer.id, pm, 5000, {
        description: 'Order 42',
        metadata: { order_reference: 'ord-42' },
      });
      const events = await eventsOf(stripe);
      const mine = events.filter(
        (e) =>
          (e.data.object as { id: string }).id === pi.id ||
          (e.data.object as { payment_intent?: string }).payment_intent === pi.id,
      );
      expect(mine.map((e) => e.type)).toEqual([
        'payment_intent.created',
        'charge.succeeded',
        'payment_intent.succeeded',
      ]);
      const [createdEvt, chargeEvt, succeededEvt] = mine as [Stripe.Event, Stripe.Event, Stripe.Event];
      const base = createdEvt.created;
      expect(await onPaymentIntent(createdEvt, base)).toBe('applied');
      expect(await onPaymentIntent(succeededEvt, base + 1)).toBe('applied');
      expect(await run.run((e, c) => payments.onCharge(e, c), chargeEvt, base + 1)).toBe('applied');
      // Stale: the creation event again, older than what was applied.
      expect(await onPaymentIntent(createdEvt, base)).toBe('skipped_stale');
      // A same-second event that brings nothing new writes nothing: same version.
      const versionOf = async () =>
        (
          await t.db.query<{ version: number; updated_at: Date }[]>(
            `SELECT version, updated_at FROM payments WHERE stripe_payment_intent_id = $1`,
            [pi.id],
          )
        )[0];
      const settled = await versionOf();
      const reads = run.refetched.length;
      expect(await onPaymentIntent(succeededEvt, base + 1)).toBe('applied');
      expect(await versionOf()).toEqual(settled);
      // Nothing to order, so no re-read from Stripe either.
      expect(run.refetched.length).toBe(reads);

      const facade = t.app.get(PaymentsFacade);
      const payment = await facade.findByPaymentIntent(pi.id);
      expect(payment).toMatchObject({
        accountId,
        amount: 5000,
        amountReceived: 5000,
        currency: 'usd',
        status: 'succeeded',
        orderReference: 'ord-42',
        description: 'Order 42',
        origin: 'stripe',
        paymentMethod: { brand: 'visa', last4: '4242', funding: 'credit', type: 'card' },
      });
      const history = await facade.statusHistory(payment!.id);
      expect(history.map((h) => [h.fromStatus, h.toStatus, h.cause.type, h.cause.id])).toEqual([
        [null, 'pending', 'stripe_event', createdEvt.id],
        ['pending', 'succeeded', 'stripe_event', succeededEvt.id],
      ]);
      expect((await auditActions(t.db, payment!.id)).map((a) => a.action)).toEqual([
        'payment.mirrored',
        'payment.status_changed',
      ]);
    });

    it('a same-second event that would change the payment is ordered by re-reading it from Stripe (R-SM-3)', async () => {
      const { customer, pm } = await linkedCustomer();
      const pi = await confirmedPayment(customer.id, pm, 700);
      const created = await eventAbout(pi.id, 'payment_intent.created');
      const succeeded = await eventAbout(pi.id, 'payment_intent.succeeded');
      expect(await onPaymentIntent(created, created.created)).toBe('applied');
      const reads = run.refetched.length;
      expect(await onPaymentIntent(succeeded, created.created)).toBe('applied');
      // The PaymentIntent (the tie), then its charge (the card for the receipt of the capture).
      expect(run.refetched.slice(reads)).toEqual([pi.id, pi.latest_charge]);
      expect(await mirroredPayment(pi.id)).toMatchObject({
        status: 'succeeded',
      });
    });

    it('records a decline with its codes; payments of unknown customers are ignored', async () => {
      const { customer } = await linkedCustomer();
      await expect(
        stripe.paymentIntents.create({
          amount: 700,
          currency: 'usd',
          customer: customer.id,
          payment_method: 'pm_card_visa_chargeDeclinedInsufficientFunds',
          confirm: true,
        }),
      ).rejects.toMatchObject({ code: 'card_declined' });
      const failed = (await eventsOf(stripe, ['payment_intent.payment_failed'])).find(
        (e) => (e.data.object as Stripe.PaymentIntent).customer === customer.id,
      )!;
      expect(await onPaymentIntent(failed)).toBe('applied');
      const payment = await mirroredPayment((failed.data.object as { id: string }).id);
      expect(payment).toMatchObject({
        status: 'failed',
        failureCode: 'card_declined',
        declineCode: 'insufficient_funds',
      });

      const stranger = await stripe.customers.create({});
      const pi = await stripe.paymentIntents.create({
        amount: 100,
        currency: 'eur',
        customer: stranger.id,
        payment_method: 'pm_card_visa',
        confirm: true,
      });
      const evt = await eventAbout(pi.id, 'payment_intent.succeeded');
      expect(await onPaymentIntent(evt)).toBe('ignored');
      expect(await mirroredPayment(pi.id)).toBeNull();
    });

    it('a domain rejection (succeeded -> canceled) is a permanent failure and changes nothing', async () => {
      const { customer, pm } = await linkedCustomer();
      const pi = await confirmedPayment(customer.id, pm, 900);
      const succeeded = await eventAbout(pi.id, 'payment_intent.succeeded');
      await onPaymentIntent(succeeded);
      const forged = structuredClone(succeeded);
      (forged as { type: string }).type = 'payment_intent.canceled';
      (forged.data.object as { status: string }).status = 'canceled';
      await expect(onPaymentIntent(forged, succeeded.created + 5)).rejects.toBeInstanceOf(
        PermanentEventError,
      );
      expect(await mirroredPayment(pi.id)).toMatchObject({
        status: 'succeeded',
      });
    });

    it('files a payment-mode Checkout payment of an unlinked customer under the session account', async () => {
      const accountId = await newAccount();
      const customer = await stripe.customers.create({ email: 'guest@example.test' });
      const product = await stripe.products.create({ name: 'One-off' });
      const price = await stripe.prices.create({ product: product.id, unit_amount: 1234, currency: 'usd' });
      const session = await checkoutSession('payment', accountId, customer.id, price.id);
      const { events, completed } = await completeCheckout(session.id);
      const piId = (completed.data.object as Stripe.Checkout.Session).payment_intent as string;
      // The PaymentIntent's own event alone: its customer belongs to no account.
      const succeeded = only(about(events, piId, 'payment_intent.succeeded'), 'succeeded');
      expect(await onPaymentIntent(succeeded)).toBe('ignored');
      expect(await onCheckout(completed)).toBe('applied');
      expect(await mirroredPayment(piId)).toMatchObject({
        accountId,
        amount: 1234,
        status: 'succeeded',
        checkoutSessionId: session.id,
      });
      // Another account's id in the reference is not trusted blindly: an unknown account is ignored.
      const forged = structuredClone(completed);
      (forged.data.object as { client_reference_id: string }).client_reference_id = randomUUID();
      (forged.data.object as { payment_intent: string }).payment_intent = 'pi_doesnotexist';
      expect(await onCheckout(forged)).toBe('ignored');
    });

    it('mirrors attached and detached payment methods of linked customers', async () => {
      const { accountId, customer } = await linkedCustomer();
      const pm = await stripe.paymentMethods.attach('pm_card_mastercard_debit', { customer: customer.id });
      await stripe.paymentMethods.detach(pm.id);
      const events = about(await eventsOf(stripe), pm.id);
      const attached = oneOfType(events, 'payment_method.attached');
      const detached = oneOfType(events, 'payment_method.detached');
      expect(await onPaymentMethod(attached, attached.created)).toBe('applied');
      const facade = t.app.get(PaymentsFacade);
      expect(
        (await facade.listPaymentMethods(accountId)).find((m) => m.stripePaymentMethodId === pm.id),
      ).toMatchObject({
        brand: 'mastercard',
        funding: 'debit',
        status: 'attached',
      });
      expect(await onPaymentMethod(detached, attached.created + 1)).toBe('applied');
      expect(
        (await facade.listPaymentMethods(accountId)).some((m) => m.stripePaymentMethodId === pm.id),
      ).toBe(false);
      // The attach event delivered late does not re-attach it.
      expect(await onPaymentMethod(attached, attached.created)).toBe('skipped_stale');
      expect((await auditActions(t.db, pm.id)).map((a) => a.action)).toEqual([
        'payment_method.attached',
        'payment_method.detached',
      ]);
    });
  });

  describe('refunds', () => {
    it('partial then full refunds move the payment to partially_refunded then refunded (through the domain)', async () => {
      const { customer, pm } = await linkedCustomer();
      const pi = await confirmedPayment(customer.id, pm, 5000);
      const succeeded = await eventAbout(pi.id, 'payment_intent.succeeded');
      await onPaymentIntent(succeeded);

      const r1 = await stripe.refunds.create({
        payment_intent: pi.id,
        amount: 1000,
        reason: 'requested_by_customer',
      });
      const r1Events = await settledRefundEvents(r1.id);
      const r1Created = oneOfType(r1Events, 'refund.created');
      const r1Updated = oneOfType(r1Events, 'refund.updated');
      const base = succeeded.created;
      expect(await onRefund(r1Created, base + 1)).toBe('applied');
      const facade = t.app.get(PaymentsFacade);
      // Pending refunds hold money but do not change the status yet.
      expect(await facade.findByPaymentIntent(pi.id)).toMatchObject({
        status: 'succeeded',
        amountRefunded: 0,
      });
      expect(await onRefund(r1Updated, base + 2)).toBe('applied');
      expect(await facade.findByPaymentIntent(pi.id)).toMatchObject({
        status: 'partially_refunded',
        amountRefunded: 1000,
      });
      // The stale "pending" event arriving late does not undo the success.
      expect(await onRefund(r1Created, base + 1)).toBe('skipped_stale');

      const r2 = await stripe.refunds.create({ payment_intent: pi.id });
      const r2Updated = oneOfType(await settledRefundEvents(r2.id), 'refund.updated');
      // Only the final event of the second refund: the row is created from it.
      expect(await onRefund(r2Updated, base + 3)).toBe('applied');
      const payment = await facade.findByPaymentIntent(pi.id);
      expect(payment).toMatchObject({ status: 'refunded', amountRefunded: 5000 });
      const list = await t.app.get(RefundsFacade).listForPayment(payment!.id);
      // Both refunds were made within one second: their order is not defined, so compare by amount.
      expect(
        list.map((r) => [r.amount, r.status, r.origin]).sort((x, y) => Number(x[0]) - Number(y[0])),
      ).toEqual([
        [1000, 'succeeded', 'stripe'],
        [4000, 'succeeded', 'stripe'],
      ]);
      const history = await facade.statusHistory(payment!.id);
      expect(history.map((h) => h.toStatus)).toEqual(['succeeded', 'partially_refunded', 'refunded']);
    });

    it('a dashboard refund whose event comes before the payment is ever mirrored still appears (R-REF-4)', async () => {
      const { accountId, customer, pm } = await linkedCustomer();
      const pi = await confirmedPayment(customer.id, pm, 3000);
      const refund = await stripe.refunds.create({ payment_intent: pi.id, amount: 1200 });
      const updated = oneOfType(await settledRefundEvents(refund.id), 'refund.updated');
      const before = run.refetched.length;
      expect(await onRefund(updated)).toBe('applied');
      // The PaymentIntent, then its charge (the card on the receipt the captured payment gets).
      expect(run.refetched.slice(before)).toEqual([pi.id, pi.latest_charge]);
      const payment = await mirroredPayment(pi.id);
      expect(payment).toMatchObject({ accountId, status: 'partially_refunded', amountRefunded: 1200 });
      // Then the payment's own (older) events arrive: nothing moves backwards.
      const succeeded = await eventAbout(pi.id, 'payment_intent.succeeded');
      expect(await onPaymentIntent(succeeded, updated.created - 1)).toBe('skipped_stale');
      // charge.refunded recomputes from the mirrored refunds and changes nothing more.
      const chargeRefunded = (await eventsOf(stripe, ['charge.refunded'])).find(
        (e) => (e.data.object as Stripe.Charge).payment_intent === pi.id,
      )!;
      expect(await run.run((e, c) => refunds.onChargeRefunded(e, c), chargeRefunded)).toBe('ignored');
      expect(await mirroredPayment(pi.id)).toMatchObject({
        status: 'partially_refunded',
      });
    });
  });

  describe('refund order', () => {
    it("a charge's refund list of the same second that still shows a succeeded refund pending does not move it back", async () => {
      const { customer, pm } = await linkedCustomer();
      const pi = await confirmedPayment(customer.id, pm, 2600);
      const refund = await stripe.refunds.create({ payment_intent: pi.id, amount: 600 });
      const updated = oneOfType(await settledRefundEvents(refund.id), 'refund.updated');
      expect(await onRefund(updated)).toBe('applied');
      const refundRow = async () =>
        (
          await t.db.query<{ status: string }[]>(`SELECT status FROM refunds WHERE stripe_refund_id = $1`, [
            refund.id,
          ])
        )[0]?.status;
      expect(await refundRow()).toBe('succeeded');
      // The charge's list as it stood a moment earlier in the same second: the refund still pending.
      const chargeRefunded = (await eventsOf(stripe, ['charge.refunded'])).find(
        (e) => (e.data.object as Stripe.Charge).payment_intent === pi.id,
      )!;
      const older = structuredClone(chargeRefunded);
      const charge = older.data.object as Stripe.Charge;
      charge.refunds = {
        object: 'list',
        url: `/v1/charges/${charge.id}/refunds`,
        has_more: false,
        data: [{ ...refund, status: 'pending' }],
      };
      await run.run((e, c) => refunds.onChargeRefunded(e, c), older, updated.created);
      expect(await refundRow()).toBe('succeeded');
      expect(await mirroredPayment(pi.id)).toMatchObject({
        status: 'partially_refunded',
        amountRefunded: 600,
      });
    });
  });

  describe('payments created by the app', () => {
    it('links the row by metadata.payment_id; a refund seen before the success is applied once it succeeds', async () => {
      const { accountId, customer, pm } = await linkedCustomer();
      const paymentId = randomUUID();
      const now = new Date();
      // What the payments API (issue 5) writes before it calls Stripe: no PaymentIntent id yet.
      await t.db.query(
        `INSERT INTO payments (id, account_id, amount, currency, status, origin, metadata, created_at, updated_at)
         VALUES ($1, $2, 4000, 'usd', 'pending', 'api', '{}', $3, $3)`,
        [paymentId, accountId, now],
      );
      const pi = await confirmedPayment(customer.id, pm, 4000, {
        metadata: { payment_id: paymentId, account_id: accountId },
      });
      const refund = await stripe.refunds.create({ payment_intent: pi.id, amount: 1500 });
      const settled = oneOfType(await settledRefundEvents(refund.id), 'refund.updated');
      const succeeded = await eventAbout(pi.id, 'payment_intent.succeeded');

      // The refund first: the payment is found by our id and linked; it is not captured yet in the mirror.
      expect(await onRefund(settled, succeeded.created)).toBe('applied');
      const facade = t.app.get(PaymentsFacade);
      expect(await facade.getPayment(paymentId)).toMatchObject({
        stripePaymentIntentId: pi.id,
        status: 'pending',
        amountRefunded: 1500,
        origin: 'api',
      });
      // Then the success: succeeded, and at once partially refunded by the refund already recorded.
      expect(await onPaymentIntent(succeeded, succeeded.created + 1)).toBe('applied');
      expect(await facade.getPayment(paymentId)).toMatchObject({
        status: 'partially_refunded',
        amountRefunded: 1500,
      });
      expect((await facade.statusHistory(paymentId)).map((h) => [h.fromStatus, h.toStatus])).toEqual([
        ['pending', 'succeeded'],
        ['succeeded', 'partially_refunded'],
      ]);
      const rows: { n: number }[] = await t.db.query(
        `SELECT count(*)::int AS n FROM payments WHERE stripe_payment_intent_id = $1`,
        [pi.id],
      );
      expect(rows[0]?.n).toBe(1);
    });
  });

  describe('invoices', () => {
    it('mirrors a subscription invoice with its subscription; an older event is skipped; upcoming is ignored', async () => {
      const { accountId, customer } = await linkedCustomer();
      const sub = await subscribe(customer.id);
      const events = await eventsOf(stripe);
      const invoiceId = sub.latest_invoice as string;
      const mine = about(events, invoiceId);
      expect(mine.map((e) => e.type)).toEqual(
        expect.arrayContaining([
          'invoice.created',
          'invoice.finalized',
          'invoice.paid',
          'invoice.payment_succeeded',
        ]),
      );
      const base = mine[0]!.created;
      for (const [i, e] of mine.entries()) {
        expect(await onInvoice(e, base + i)).toBe('applied');
      }
      const created = oneOfType(mine, 'invoice.created');
      expect(await onInvoice(created, base)).toBe('skipped_stale');
      const rows: Record<string, unknown>[] = await t.db.query(
        `SELECT * FROM invoices WHERE stripe_invoice_id = $1`,
        [invoiceId],
      );
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({
        account_id: accountId,
        stripe_subscription_id: sub.id,
        status: 'paid',
        amount_due: '2900',
        amount_paid: '2900',
        amount_remaining: '0',
        currency: 'usd',
      });
      const audit = await auditActions(t.db, String(rows[0]!.id));
      expect(audit.map((a) => a.action)).toEqual([
        'invoice.mirrored',
        'invoice.status_changed',
        'invoice.status_changed',
      ]);

      const upcoming = structuredClone(created);
      (upcoming as { type: string }).type = 'invoice.upcoming';
      delete (upcoming.data.object as { id?: string }).id;
      expect(await onInvoice(upcoming)).toBe('ignored');
    });
  });
});
