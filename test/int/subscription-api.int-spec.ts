import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import type Stripe from 'stripe';
import { http, tokenFor } from '../support/test-app.js';
import {
  accountWithCustomer,
  attachMethod,
  startPaymentsWorld,
  type PaymentsWorld,
  type TestAccount,
} from './payments-support.js';
import { allWebhooksSettled } from './plan-change.support.js';
import { createCatalogue } from './stripe-mirrors.support.js';
import { deliver, inboxRow, queueAsOneBatch, statusIs, stripeEvent, until } from './webhooks.support.js';

/** Sets the emulator's chaos switches (`/_emulator/chaos`). */
async function chaosOf(w: PaymentsWorld, body: Record<string, unknown>): Promise<void> {
  const res = await fetch(`${w.kit.emulator.url}/_emulator/chaos`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`chaos answered ${res.status}`);
}

interface OwnerView {
  view: 'owner';
  plan: { id: string; name: string };
  state: string;
  renewsAt: string | null;
  endsAt: string | null;
  seats: { used: number; included: number; purchased: number; total: number };
  card: { brand: string | null; last4: string | null } | null;
  creditBalance: number;
  banners: { kind: string }[];
}

// R-SUB-5/6/8 through the real API, the real emulator and its signed webhooks: the role views, cancel at
// the period end, resume, cancel now, and the Customer Portal.
describe('subscription API: views by role, cancel and resume, portal', () => {
  let w: PaymentsWorld;
  let prices: Awaited<ReturnType<typeof createCatalogue>>;

  beforeAll(async () => {
    w = await startPaymentsWorld();
    prices = await createCatalogue(w.stripe);
  });
  afterAll(async () => {
    await w?.close();
  });

  /** An account subscribed to Pro monthly with one add-on seat, paid by its default card, mirrored. */
  /**
   * Delivers `event` with Stripe answering in 1.5 s and, while the event is processing, keeps taking a
   * row's lock (`lockSql`, waiting 300 ms at most) as the app's own commands would: how often it tried,
   * and the lock waits that timed out.
   */
  async function lockWhileProcessing(
    event: ReturnType<typeof stripeEvent>,
    lockSql: string,
    params: unknown[],
  ): Promise<{ tries: number; waits: string[] }> {
    await chaosOf(w, { latencyMs: 1_500 });
    const waits: string[] = [];
    let tries = 0;
    try {
      expect((await deliver(w.t.url, event)).status).toBe(200);
      await until(
        async () => {
          const row = await inboxRow(w.t.db, event.id);
          if (row?.status === 'processed') return true;
          if (row?.status !== 'processing') return false;
          tries += 1;
          await w.t.db
            .transaction(async (m) => {
              await m.query(`SET LOCAL lock_timeout = '300ms'`);
              await m.query(lockSql, params);
            })
            .catch((error: Error) => waits.push(error.message));
          return false;
        },
        'the same-second event applied',
        15_000,
      );
    } finally {
      await chaosOf(w, { latencyMs: 0 });
    }
    return { tries, waits };
  }

  async function subscribed(): Promise<TestAccount & { subscriptionId: string }> {
    const a = await accountWithCustomer(w);
    const pm = await attachMethod(w, a, 'pm_card_visa');
    await w.stripe.customers.update(a.customerId, { invoice_settings: { default_payment_method: pm } });
    const sub = await w.stripe.subscriptions.create({
      customer: a.customerId,
      items: [{ price: prices.proMonth }, { price: prices.proMonthSeat, quantity: 1 }],
    });
    await until(async () => (await ownerView(a)).state === 'active', 'the subscription mirrored active');
    await until(async () => (await ownerView(a)).card !== null, 'the default card mirrored');
    return { ...a, subscriptionId: sub.id };
  }

  async function ownerView(a: TestAccount): Promise<OwnerView> {
    const res = await http<OwnerView>(w.t.url, 'GET', '/v1/subscription', { token: a.owner });
    expect(res.status).toBe(200);
    return res.body;
  }

  const post = (a: TestAccount, path: string, body?: unknown, key = randomUUID()) =>
    http<
      {
        subscription?: OwnerView;
        refunded?: number;
        message?: string;
        error?: { code: string };
      } & Partial<OwnerView>
    >(w.t.url, 'POST', path, {
      token: a.owner,
      headers: { 'idempotency-key': key },
      ...(body ? { body } : {}),
    });

  it('shows each role what it may see', async () => {
    const a = await subscribed();
    const owner = await ownerView(a);
    expect(owner).toMatchObject({
      view: 'owner',
      plan: { id: 'pro', name: 'Pro' },
      state: 'active',
      seats: { used: 1, included: 5, purchased: 1, total: 6 },
      card: { brand: 'visa', last4: '4242' },
      creditBalance: 0,
      banners: [],
    });
    expect(owner.renewsAt).not.toBeNull();

    const member = await http(w.t.url, 'GET', '/v1/subscription', { token: a.member });
    expect(member).toMatchObject({
      status: 200,
      body: { view: 'member', plan: { id: 'pro', name: 'Pro' }, renewsAt: owner.renewsAt },
    });
    expect(Object.keys(member.body as object).sort()).toEqual(['plan', 'renewsAt', 'view']);

    const finance = await tokenFor({ sub: 'finance-1', role: 'finance' });
    expect((await http(w.t.url, 'GET', '/v1/subscription', { token: finance })).status).toBe(400);
    const internal = await http<Record<string, unknown>>(
      w.t.url,
      'GET',
      `/v1/subscription?accountId=${a.accountId}`,
      { token: finance },
    );
    expect(internal).toMatchObject({
      status: 200,
      body: {
        view: 'internal',
        accountId: a.accountId,
        state: 'active',
        stripeSubscriptionId: a.subscriptionId,
      },
    });
    expect(JSON.stringify(internal.body)).not.toMatch(/4242|visa|card/);
    // Its recent invoices (R-SUB-8), through the invoices module: the subscription's first, paid, once
    // the invoice webhooks are mirrored; no links to pay or download it.
    const [invoice] = (await w.stripe.invoices.list({ subscription: a.subscriptionId })).data;
    const internalInvoices = async () =>
      (
        await http<{ invoices: { stripeInvoiceId: string; status: string; total: number }[] }>(
          w.t.url,
          'GET',
          `/v1/subscription?accountId=${a.accountId}`,
          { token: finance },
        )
      ).body.invoices;
    await until(
      async () => (await internalInvoices()).some((i) => i.status === 'paid'),
      'the paid invoice in the internal view',
    );
    expect(await internalInvoices()).toEqual([
      expect.objectContaining({ stripeInvoiceId: invoice!.id, status: 'paid', total: invoice!.total }),
    ]);
    expect(JSON.stringify(await internalInvoices())).not.toMatch(/https?:|pdf/i);

    // Another account's owner asking for this account: 404, never its data.
    const other = await accountWithCustomer(w);
    expect(
      (await http(w.t.url, 'GET', `/v1/subscription?accountId=${a.accountId}`, { token: other.owner }))
        .status,
    ).toBe(404);
  });

  it('cancels at the period end, resumes, then cancels now without a refund; Stripe agrees each time', async () => {
    const a = await subscribed();
    const key = randomUUID();
    const scheduled = await post(a, '/v1/subscription/cancel', { when: 'period_end' }, key);
    expect(scheduled.status).toBe(200);
    expect(scheduled.body).toMatchObject({
      subscription: {
        state: 'canceled_pending',
        renewsAt: null,
        banners: [{ kind: 'cancels_at_period_end' }],
      },
      refunded: 0,
    });
    expect(scheduled.body.subscription?.endsAt).not.toBeNull();
    expect((await w.stripe.subscriptions.retrieve(a.subscriptionId)).cancel_at_period_end).toBe(true);
    // The same key replays the answer; nothing runs twice.
    const again = await post(a, '/v1/subscription/cancel', { when: 'period_end' }, key);
    expect(again.body).toEqual(scheduled.body);
    // Asked a second time under a new key: the machine refuses, Stripe is not called.
    expect((await post(a, '/v1/subscription/cancel', { when: 'period_end' })).body.error?.code).toBe(
      'invalid_transition',
    );

    const resumed = await post(a, '/v1/subscription/resume');
    expect(resumed).toMatchObject({ status: 200, body: { state: 'active', endsAt: null } });
    expect((await w.stripe.subscriptions.retrieve(a.subscriptionId)).cancel_at_period_end).toBe(false);

    const now = await post(a, '/v1/subscription/cancel', { when: 'now' });
    expect(now).toMatchObject({
      status: 200,
      body: { subscription: { state: 'canceled_immediately', plan: { id: 'free' } }, refunded: 0 },
    });
    expect(now.body.message).toMatch(/Nothing is refunded/);
    expect((await w.stripe.subscriptions.retrieve(a.subscriptionId)).status).toBe('canceled');
    // Stripe's own events about these changes arrive and change nothing more.
    await until(async () => {
      const rows = await w.t.db.query<{ n: number }[]>(
        `SELECT count(*)::int AS n FROM webhook_events WHERE type = 'customer.subscription.deleted'
           AND payload->'data'->'object'->>'id' = $1 AND status IN ('processed', 'ignored')`,
        [a.subscriptionId],
      );
      return rows[0]?.n === 1;
    }, 'the deletion webhook applied');
    expect((await ownerView(a)).state).toBe('canceled_immediately');

    // Each change is audited with the owner as actor, and the machine's refusals are not.
    const audit = await w.t.db.query<{ action: string; actor_type: string; reason: string | null }[]>(
      `SELECT action, actor_type, reason FROM audit_log
        WHERE entity_type = 'subscription' AND actor_type = 'user' AND account_id = $1 ORDER BY id`,
      [a.accountId],
    );
    expect(audit.map((r) => r.reason)).toEqual(['cancel_at_period_end', 'resume', 'cancel_immediately']);

    // After the end there is nothing to resume: subscribe again through checkout.
    const late = await post(a, '/v1/subscription/resume');
    expect(late).toMatchObject({ status: 409, body: { error: { code: 'invalid_transition' } } });
  });

  it("records Stripe's time of a cancel and a resume: an event from before the change, delivered after it, is re-read, not applied", async () => {
    const a = await subscribed();
    // The subscription's events so far are from a minute ago: an event of a later second is newer than
    // anything applied, and would be applied as it stands but for the app's own change.
    await w.t.db.query(
      `UPDATE subscriptions SET last_event_created = last_event_created - 60 WHERE stripe_subscription_id = $1`,
      [a.subscriptionId],
    );
    const marker = async () =>
      Number(
        (
          await w.t.db.query<{ at: string | null }[]>(
            `SELECT app_changed_stripe_at::text AS at FROM subscriptions WHERE stripe_subscription_id = $1`,
            [a.subscriptionId],
          )
        )[0]?.at ?? 0,
      );
    const row = async () =>
      (
        await w.t.db.query<{ state: string; cancel_at_period_end: boolean }[]>(
          `SELECT state, cancel_at_period_end FROM subscriptions WHERE stripe_subscription_id = $1`,
          [a.subscriptionId],
        )
      )[0];
    /** Delivers `object` as an update created at `created`, ahead of Stripe's own (held back) events. */
    const deliverStale = async (object: Stripe.Subscription, created: number) => {
      const event = stripeEvent(
        'customer.subscription.updated',
        object as unknown as Record<string, unknown>,
        {
          created,
        },
      );
      expect((await deliver(w.t.url, event)).status).toBe(200);
      return until(statusIs(w.t.db, event.id, ['processed']), 'the stale event applied');
    };
    const chaos = (body: Record<string, unknown>) => chaosOf(w, body);

    const [audited] = await w.t.db.query<{ since: string }[]>(
      `SELECT coalesce(max(id), 0)::text AS since FROM audit_log`,
    );
    // Stripe's own events of the changes arrive late (as they may), after one made before the change.
    await chaos({ webhookDelayMs: 3_000 });
    try {
      const active = await w.stripe.subscriptions.retrieve(a.subscriptionId);
      expect((await post(a, '/v1/subscription/cancel', { when: 'period_end' })).status).toBe(200);
      const canceledAt = await marker();
      expect(canceledAt).toBeGreaterThanOrEqual(active.created);
      const canceled = await w.stripe.subscriptions.retrieve(a.subscriptionId);
      expect(canceled.cancel_at_period_end).toBe(true);
      // An update made before the cancellation, created in its second: re-read, the cancellation stays.
      const first = await deliverStale(active, canceledAt);
      expect(first?.outcome).toBe('applied');
      expect(await row()).toEqual({ state: 'canceled_pending', cancel_at_period_end: true });

      expect((await post(a, '/v1/subscription/resume')).status).toBe(200);
      const resumedAt = await marker();
      expect(resumedAt).toBeGreaterThanOrEqual(canceledAt);
      // The cancellation's own report, delivered after the resume: re-read, the resume stays.
      await deliverStale(canceled, resumedAt);
      expect(await row()).toEqual({ state: 'active', cancel_at_period_end: false });
    } finally {
      await chaos({ webhookDelayMs: 0 });
    }
    await allWebhooksSettled(w);
    expect(await row()).toEqual({ state: 'active', cancel_at_period_end: false });
    const reverted = await w.t.db.query<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM audit_log WHERE account_id = $1 AND actor_type = 'stripe_event'
         AND action = 'subscription.state_changed' AND id > $2`,
      [a.accountId, audited?.since],
    );
    expect(reverted[0]?.n).toBe(0);
  });

  it("re-reads a same-second event's invoice from Stripe before its row is locked: the invoice is never locked across that call", async () => {
    const a = await subscribed();
    await allWebhooksSettled(w);
    const [invoice] = (await w.stripe.invoices.list({ subscription: a.subscriptionId })).data;
    if (!invoice) throw new Error('no invoice');
    const [mirrored] = await w.t.db.query<{ last: string }[]>(
      `SELECT last_event_created::text AS last FROM invoices WHERE stripe_invoice_id = $1`,
      [invoice.id],
    );
    // Of the same second as the last event applied to the invoice: re-read, and Stripe is slow.
    const event = stripeEvent('invoice.updated', invoice as unknown as Record<string, unknown>, {
      created: Number(mirrored?.last),
    });
    const { tries, waits } = await lockWhileProcessing(
      event,
      `SELECT 1 FROM invoices WHERE stripe_invoice_id = $1 FOR UPDATE`,
      [invoice.id],
    );
    expect(tries).toBeGreaterThan(1);
    expect(waits).toEqual([]);
    expect((await inboxRow(w.t.db, event.id))?.outcome).toBe('applied');
  });

  it("re-reads a same-second event's subscription from Stripe before its row is locked, so the app's commands never wait on that call", async () => {
    const a = await subscribed();
    await allWebhooksSettled(w);
    const [mirrored] = await w.t.db.query<{ last: string }[]>(
      `SELECT last_event_created::text AS last FROM subscriptions WHERE stripe_subscription_id = $1`,
      [a.subscriptionId],
    );
    const current = await w.stripe.subscriptions.retrieve(a.subscriptionId);
    // Of the same second as the last event applied: the mirror must re-read it, and Stripe is slow.
    const event = stripeEvent(
      'customer.subscription.updated',
      current as unknown as Record<string, unknown>,
      {
        created: Number(mirrored?.last),
      },
    );
    // Another writer (a plan change, a cancellation) takes the row's lock meanwhile, waiting 300 ms at most.
    const { tries, waits } = await lockWhileProcessing(
      event,
      `SELECT 1 FROM subscriptions WHERE stripe_subscription_id = $1 FOR NO KEY UPDATE`,
      [a.subscriptionId],
    );
    expect(tries).toBeGreaterThan(1);
    expect(waits).toEqual([]);
    expect((await inboxRow(w.t.db, event.id))?.outcome).toBe('applied');
  });

  /**
   * Until the events are processed, looks for transactions left open across a Stripe call (the caller
   * makes Stripe answer in 1.5 s: idle in a transaction for 700 ms and more): their last statements.
   */
  async function openAcrossStripeUntilApplied(
    eventIds: string[],
    statuses = ['processed'],
  ): Promise<string[]> {
    const seen: string[] = [];
    await until(
      async () => {
        const open = await w.t.db.query<{ query: string }[]>(
          `SELECT query FROM pg_stat_activity
            WHERE datname = current_database() AND state = 'idle in transaction'
              AND now() - state_change > interval '700 milliseconds'`,
        );
        seen.push(...open.map((r) => r.query));
        const [done] = await w.t.db.query<{ n: number }[]>(
          `SELECT count(*)::int AS n FROM webhook_events WHERE id = ANY($1::text[]) AND status = ANY($2::text[])`,
          [eventIds, statuses],
        );
        return done?.n === eventIds.length;
      },
      'the events applied',
      15_000,
    );
    return seen;
  }

  it("re-reads a new invoice's same-second events from Stripe before the batch's transaction, which the first one's insert opens", async () => {
    const a = await subscribed();
    await allWebhooksSettled(w);
    // An invoice Stripe has and the mirror has not seen: its `invoice.created` is not delivered yet.
    await chaosOf(w, { webhookDropRate: 1 });
    const invoice = await w.stripe.invoices
      .create({ customer: a.customerId, auto_advance: false })
      .finally(() => chaosOf(w, { webhookDropRate: 0 }));
    const createdEvent = (await w.stripe.events.list({ type: 'invoice.created', limit: 20 })).data.find(
      (e) => (e.data.object as { id?: string }).id === invoice.id,
    );
    if (!createdEvent) throw new Error('no invoice.created event');
    // That event and an update of its second, in one batch: the first inserts the row, the second cannot
    // be ordered against it and is re-read (Stripe is slow).
    const events = [
      createdEvent as unknown as ReturnType<typeof stripeEvent>,
      stripeEvent('invoice.updated', invoice as unknown as Record<string, unknown>, {
        created: createdEvent.created,
      }),
    ];
    await chaosOf(w, { latencyMs: 1_500 });
    try {
      await queueAsOneBatch(w.t, events);
      expect(await openAcrossStripeUntilApplied(events.map((e) => e.id))).toEqual([]);
    } finally {
      await chaosOf(w, { latencyMs: 0 });
    }
    expect((await inboxRow(w.t.db, events[1]!.id))?.outcome).toBe('applied');
    const mirrored = await w.t.db.query<{ account_id: string }[]>(
      `SELECT account_id FROM invoices WHERE stripe_invoice_id = $1`,
      [invoice.id],
    );
    expect(mirrored).toEqual([{ account_id: a.accountId }]);
  });

  it("asks Stripe whether a new PaymentIntent pays an invoice before the batch's transaction: an invoice's is ignored without a transaction open across that call", async () => {
    const a = await subscribed();
    await allWebhooksSettled(w);
    const [invoice] = (await w.stripe.invoices.list({ subscription: a.subscriptionId })).data;
    if (!invoice) throw new Error('no invoice');
    const [link] = (await w.stripe.invoicePayments.list({ invoice: invoice.id })).data;
    const paymentIntentId = link?.payment.payment_intent;
    if (typeof paymentIntentId !== 'string') throw new Error('no PaymentIntent paid the invoice');
    const pi = await w.stripe.paymentIntents.retrieve(paymentIntentId);
    // Its PaymentIntent's event again (as Stripe may redeliver it), while Stripe is slow.
    const event = stripeEvent('payment_intent.succeeded', pi as unknown as Record<string, unknown>);
    await chaosOf(w, { latencyMs: 1_500 });
    try {
      await queueAsOneBatch(w.t, [event]);
      expect(await openAcrossStripeUntilApplied([event.id], ['ignored'])).toEqual([]);
    } finally {
      await chaosOf(w, { latencyMs: 0 });
    }
    expect((await inboxRow(w.t.db, event.id))?.outcome).toBe('ignored');
    const payments = await w.t.db.query<unknown[]>(
      `SELECT 1 FROM payments WHERE stripe_payment_intent_id = $1`,
      [paymentIntentId],
    );
    expect(payments).toEqual([]);
  });

  /**
   * Holds the row's lock while `event` (newer than anything applied: no Stripe read ahead) is delivered;
   * once the batch waits for it, applies an event of the event's very second to the row and lets go.
   * Under the lock the batch then finds it must re-read the object: it reads it ahead again rather than
   * hold its locks across that Stripe call. Returns the transactions seen open across a Stripe call.
   */
  async function writtenWhileWaiting(
    table: 'invoices' | 'subscriptions',
    column: 'stripe_invoice_id' | 'stripe_subscription_id',
    stripeId: string,
    type: string,
    object: unknown,
  ): Promise<{ event: ReturnType<typeof stripeEvent>; open: string[] }> {
    const [mirrored] = await w.t.db.query<{ last: string }[]>(
      `SELECT last_event_created::text AS last FROM ${table} WHERE ${column} = $1`,
      [stripeId],
    );
    const second = Number(mirrored?.last) + 1;
    const event = stripeEvent(type, object as Record<string, unknown>, { created: second });
    const writer = w.t.db.createQueryRunner();
    await writer.connect();
    await chaosOf(w, { latencyMs: 1_500 });
    try {
      await writer.startTransaction();
      const [{ pid }] = (await writer.query(`SELECT pg_backend_pid() AS pid`)) as [{ pid: number }];
      await writer.query(`SELECT 1 FROM ${table} WHERE ${column} = $1 FOR UPDATE`, [stripeId]);
      // Not awaited: the intake may apply the event before it answers.
      const delivered = deliver(w.t.url, event);
      await until(
        async () =>
          (
            await w.t.db.query<{ n: number }[]>(
              `SELECT count(*)::int AS n FROM pg_stat_activity
                WHERE datname = current_database() AND wait_event_type = 'Lock' AND $1 = ANY(pg_blocking_pids(pid))`,
              [pid],
            )
          )[0]?.n === 1,
        'the batch waiting for the row',
      );
      await writer.query(`UPDATE ${table} SET last_event_created = $2 WHERE ${column} = $1`, [
        stripeId,
        second,
      ]);
      await writer.commitTransaction();
      const open = await openAcrossStripeUntilApplied([event.id]);
      expect((await delivered).status).toBe(200);
      return { event, open };
    } finally {
      if (writer.isTransactionActive) await writer.rollbackTransaction();
      await writer.release();
      await chaosOf(w, { latencyMs: 0 });
    }
  }

  it.each([
    {
      what: 'an invoice',
      table: 'invoices' as const,
      column: 'stripe_invoice_id' as const,
      type: 'invoice.updated',
      current: async (subscriptionId: string): Promise<{ id: string }> => {
        const [invoice] = (await w.stripe.invoices.list({ subscription: subscriptionId })).data;
        if (!invoice) throw new Error('no invoice');
        return invoice;
      },
    },
    {
      what: 'a subscription',
      table: 'subscriptions' as const,
      column: 'stripe_subscription_id' as const,
      type: 'customer.subscription.updated',
      current: (subscriptionId: string): Promise<{ id: string }> =>
        w.stripe.subscriptions.retrieve(subscriptionId),
    },
  ])(
    '$what written by another batch of the same second while a batch waited for it is read ahead again, not under its lock',
    async ({ table, column, type, current }) => {
      const a = await subscribed();
      await allWebhooksSettled(w);
      const object = await current(a.subscriptionId);
      const { event, open } = await writtenWhileWaiting(table, column, object.id, type, object);
      expect(open).toEqual([]);
      expect((await inboxRow(w.t.db, event.id))?.outcome).toBe('applied');
    },
  );

  it('refuses a member the owner actions, changing nothing', async () => {
    const a = await subscribed();
    const res = await http(w.t.url, 'POST', '/v1/subscription/cancel', {
      token: a.member,
      headers: { 'idempotency-key': randomUUID() },
      body: { when: 'now' },
    });
    expect(res.status).toBe(403);
    expect((await ownerView(a)).state).toBe('active');
  });

  it('opens a Customer Portal session for the account', async () => {
    const a = await subscribed();
    const res = await http<{ url: string }>(w.t.url, 'POST', '/v1/billing-portal', { token: a.owner });
    expect(res.status).toBe(200);
    expect(res.body.url).toMatch(/^https?:\/\//);
    const sessions = await w.stripe.billingPortal.sessions.create({ customer: a.customerId });
    expect(new URL(res.body.url).host).toBe(new URL(sessions.url).host);
  });
});
