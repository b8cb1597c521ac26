import { randomUUID } from 'node:crypto';
import type Stripe from 'stripe';
import type { StripeWorld } from '../support/stripe-world.js';
import { http, tokenFor } from '../support/test-app.js';
import { createAccount, until } from './webhooks.support.js';

/** A quote as `POST /v1/subscription/quotes` answers it. */
export interface QuoteBody {
  id: string;
  kind: string;
  amountDueNow: number;
  credit: number;
  creditBalanceApplied: number;
  creditBalanceAdded: number;
  prorationAmount: number;
  billingCycleRestarts: boolean;
  from: { planId: string; interval: string; seats: number };
  nextInvoice: { amount: number; at: string };
  prorationDate: string;
  status: string;
  expiresAt: string;
  stripeInvoiceId: string | null;
  to: { planId: string; interval: string; seats: number };
}

export interface ErrorBody {
  error?: { code: string; details?: Record<string, unknown> };
}

/** An account subscribed at Stripe on a test clock, mirrored by the app. */
export interface ClockedAccount {
  accountId: string;
  owner: string;
  member: string;
  customerId: string;
  clockId: string;
  subscriptionId: string;
  /** The clock's current time (Unix seconds). */
  start: number;
}

/** Every event the emulator has sent so far has been applied or ignored by the app's inbox. */
export async function allWebhooksSettled(w: StripeWorld): Promise<void> {
  await until(
    async () => {
      const ids: string[] = [];
      for await (const e of w.stripe.events.list({ limit: 100 })) ids.push(e.id);
      const rows = await w.t.db.query<{ n: number }[]>(
        `SELECT count(*)::int AS n FROM webhook_events WHERE id = ANY($1) AND status IN ('processed', 'ignored')`,
        [ids],
      );
      return rows[0]?.n === ids.length;
    },
    'every webhook applied',
    30_000,
  );
}

/** The Stripe price of a catalogue lookup key, as catalogue sync made it. */
export async function catalogPrice(w: StripeWorld, lookupKey: string): Promise<string> {
  const rows = await w.t.db.query<{ id: string }[]>(
    `SELECT stripe_price_id AS id FROM catalog_prices WHERE lookup_key = $1 AND is_current`,
    [lookupKey],
  );
  if (!rows[0]) throw new Error(`no catalogue price ${lookupKey}`);
  return rows[0].id;
}

/**
 * An account whose customer is on a new test clock, paying by `method` (a Visa by default), subscribed
 * to `plan` with `seats` add-on seats, mirrored active by the app (trialing for `trialDays` days when
 * given), its webhooks all applied.
 */
export async function subscribedOnClock(
  w: StripeWorld,
  options: { plan: string; interval: 'month' | 'year'; seats?: number; balance?: number; trialDays?: number },
): Promise<ClockedAccount> {
  const start = Math.floor(Date.UTC(2031, 2, 3, 12) / 1000);
  const clock = await w.stripe.testHelpers.testClocks.create({ frozen_time: start });
  const accountId = await createAccount(w.t.url, w.admin);
  const customer = await w.stripe.customers.create({
    test_clock: clock.id,
    metadata: { account_id: accountId },
  });
  await w.t.db.query(`UPDATE accounts SET stripe_customer_id = $2 WHERE id = $1`, [accountId, customer.id]);
  const pm = await w.stripe.paymentMethods.attach('pm_card_visa', { customer: customer.id });
  await w.stripe.customers.update(customer.id, { invoice_settings: { default_payment_method: pm.id } });
  const items: Stripe.SubscriptionCreateParams.Item[] = [
    { price: await catalogPrice(w, `${options.plan}_${options.interval}_base`) },
  ];
  if (options.seats) {
    items.push({
      price: await catalogPrice(w, `${options.plan}_${options.interval}_seat`),
      quantity: options.seats,
    });
  }
  const sub = await w.stripe.subscriptions.create({
    customer: customer.id,
    items,
    ...(options.trialDays ? { trial_end: start + options.trialDays * 86_400 } : {}),
  });
  if (options.balance) {
    await w.stripe.customers.createBalanceTransaction(customer.id, {
      amount: options.balance,
      currency: 'usd',
    });
  }
  await until(async () => {
    const rows = await w.t.db.query<{ state: string }[]>(
      `SELECT state FROM subscriptions WHERE stripe_subscription_id = $1`,
      [sub.id],
    );
    return rows[0]?.state === (options.trialDays ? 'trialing' : 'active');
  }, 'the subscription mirrored');
  await allWebhooksSettled(w);
  return {
    accountId,
    owner: await tokenFor({ sub: `owner-${randomUUID()}`, role: 'owner', accountId }),
    member: await tokenFor({ sub: `member-${randomUUID()}`, role: 'member', accountId }),
    customerId: customer.id,
    clockId: clock.id,
    subscriptionId: sub.id,
    start,
  };
}

/** Moves the account's test clock to `start + days` and waits for every webhook it caused. */
export async function advanceDays(w: StripeWorld, a: ClockedAccount, days: number): Promise<void> {
  await w.stripe.testHelpers.testClocks.advance(a.clockId, {
    frozen_time: a.start + Math.round(days * 86_400),
  });
  await allWebhooksSettled(w);
}

export async function quote(
  w: StripeWorld,
  a: { owner: string },
  body: { plan: string; interval: 'month' | 'year'; seats?: number },
) {
  return http<QuoteBody & ErrorBody>(w.t.url, 'POST', '/v1/subscription/quotes', {
    token: a.owner,
    body,
  });
}

export async function applyQuote(w: StripeWorld, a: { owner: string }, quoteId: string, key = randomUUID()) {
  return http<
    { subscription: { plan: { id: string }; pendingDowngrade: unknown }; quote: QuoteBody } & ErrorBody
  >(w.t.url, 'POST', '/v1/subscription/change', {
    token: a.owner,
    headers: { 'idempotency-key': key },
    body: { quoteId },
  });
}

/** The app's row of the subscription (what the machine decided). */
export async function subscriptionRow(
  w: StripeWorld,
  stripeSubscriptionId: string,
): Promise<{
  state: string;
  plan_id: string;
  seats: number;
  pending_plan_id: string | null;
  version: number;
}> {
  const rows = await w.t.db.query<
    { state: string; plan_id: string; seats: number; pending_plan_id: string | null; version: number }[]
  >(
    `SELECT state, plan_id, seats, pending_plan_id, version FROM subscriptions WHERE stripe_subscription_id = $1`,
    [stripeSubscriptionId],
  );
  if (!rows[0]) throw new Error('no subscription row');
  return rows[0];
}

/** The lookup keys and quantities Stripe bills the subscription now, sorted. */
export async function stripeItems(w: StripeWorld, subscriptionId: string): Promise<string[]> {
  const sub = await w.stripe.subscriptions.retrieve(subscriptionId);
  return sub.items.data.map((i) => `${i.price.lookup_key}x${i.quantity}`).sort();
}

/** Adds members to the account (the seat rule counts rows of account_members). */
export async function addMembers(w: StripeWorld, accountId: string, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    await w.t.db.query(
      `INSERT INTO account_members (account_id, user_id, email, role) VALUES ($1, $2, $3, 'member')`,
      [accountId, `user-${randomUUID()}`, `member-${randomUUID().slice(0, 8)}@example.test`],
    );
  }
}
