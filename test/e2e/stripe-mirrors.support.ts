import { randomUUID } from 'node:crypto';
import type Stripe from 'stripe';
import type { DataSource } from 'typeorm';
import {
  subscriptionStateOf,
  transformStripeSubscription,
} from '../../apps/billing-api/src/modules/subscriptions/stripe/transform-stripe-subscription.js';
import type { ChaosSettings } from '../../apps/stripe-emulator/src/core/chaos.js';
import { startTestEmulator, type TestEmulator } from '../../apps/stripe-emulator/src/core/test-kit.js';
import { createAccount, SECRET, until } from '../int/webhooks.support.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { startTestApp, tokenFor, type TestApp } from '../support/test-app.js';

/** A small deterministic PRNG (mulberry32), so that a chaos seed replays the same delivery order. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The emulator delivering real signed events to a running app: one `all` process, or an `api` plus
 * `workers` worker processes sharing one queue prefix (QUEUE_PREFIX). The emulator needs the webhook
 * URL before the app exists, so it delivers to a proxy's port, which the proxy forwards to the api.
 */
export interface MirrorStack {
  kit: TestEmulator;
  stripe: Stripe;
  api: TestApp;
  workers: TestApp[];
  db: DataSource;
  close(): Promise<void>;
}

export async function startMirrorStack(options: {
  seed: number;
  chaos: Partial<ChaosSettings>;
  workers?: number;
}): Promise<MirrorStack> {
  // The emulator delivers to the proxy's port; the proxy forwards to the api once it listens.
  const proxy = new TcpProxy('127.0.0.1', 0);
  const port = await proxy.start(0);
  const kit = await startTestEmulator({
    webhookUrl: `http://127.0.0.1:${port}/webhooks/stripe`,
    webhookSecret: SECRET,
    chaos: options.chaos,
    random: seeded(options.seed),
    delivery: { retryBaseMs: 200 },
  });
  const key = `sk_test_${randomUUID().replace(/-/g, '')}`;
  const env = {
    STRIPE_API_BASE: kit.emulator.url,
    STRIPE_SECRET_KEY: key,
    STRIPE_WEBHOOK_SECRETS: SECRET,
    QUEUE_PREFIX: `mirrors-${randomUUID().slice(0, 8)}`,
    WEBHOOK_BACKOFF_MS: '100',
  };
  const apps: TestApp[] = [];
  try {
    const workerCount = options.workers ?? 0;
    const api = await startTestApp({ role: workerCount > 0 ? 'api' : 'all', env });
    apps.push(api);
    const workers: TestApp[] = [];
    for (let i = 0; i < workerCount; i++) {
      const worker = await startTestApp({ role: 'worker', env });
      apps.push(worker);
      workers.push(worker);
    }
    proxy.forwardTo('127.0.0.1', Number(new URL(api.url).port));
    return {
      kit,
      stripe: kit.client({ key }).stripe,
      api,
      workers,
      db: api.db,
      close: async () => {
        await kit.close();
        await proxy.stop();
        for (const app of apps.reverse()) await app.close();
      },
    };
  } catch (e) {
    await proxy.stop().catch(() => undefined);
    for (const app of apps) await app.close().catch(() => undefined);
    await kit.close();
    throw e;
  }
}

/** The catalogue prices (lookup keys as the catalogue sync creates them). */
export async function createPrices(stripe: Stripe): Promise<{ base: string; seat: string }> {
  const product = await stripe.products.create({ name: 'Pro' });
  const [base, seat] = await Promise.all([
    stripe.prices.create({
      product: product.id,
      unit_amount: 2900,
      currency: 'usd',
      recurring: { interval: 'month' },
      lookup_key: 'pro_month_base',
    }),
    stripe.prices.create({
      product: product.id,
      unit_amount: 600,
      currency: 'usd',
      recurring: { interval: 'month' },
      lookup_key: 'pro_month_seat',
    }),
  ]);
  return { base: base.id, seat: seat.id };
}

/** An account (through the admin API) with a Stripe customer carrying its id and a default card. */
export async function accountWithCustomer(
  stack: MirrorStack,
): Promise<{ accountId: string; customerId: string }> {
  const accountId = await createAccount(stack.api.url, await tokenFor({ sub: 'admin', role: 'admin' }));
  const customer = await stack.stripe.customers.create({
    email: 'owner@example.test',
    metadata: { account_id: accountId },
  });
  const pm = await stack.stripe.paymentMethods.attach('pm_card_visa', { customer: customer.id });
  await stack.stripe.customers.update(customer.id, { invoice_settings: { default_payment_method: pm.id } });
  return { accountId, customerId: customer.id };
}

/** Every event of the emulator account, oldest first. */
export async function allEvents(stripe: Stripe): Promise<Stripe.Event[]> {
  const events: Stripe.Event[] = [];
  for await (const e of stripe.events.list({ limit: 100 })) events.push(e);
  return events.reverse();
}

/** Waits until every event the emulator produced is stored and finished; fails on a dead letter. */
export async function waitForAllProcessed(stack: MirrorStack, timeoutMs: number): Promise<string[]> {
  const ids = (await allEvents(stack.stripe)).map((e) => e.id);
  await until(
    async () => {
      const rows = await stack.db.query<{ status: string; n: number }[]>(
        `SELECT status, count(*)::int AS n FROM webhook_events WHERE id = ANY($1) GROUP BY status`,
        [ids],
      );
      const dead = rows.find((r) => r.status === 'dead');
      if (dead) {
        const why = await stack.db.query<{ id: string; type: string; last_error: string }[]>(
          `SELECT id, type, last_error FROM webhook_events WHERE id = ANY($1) AND status = 'dead' LIMIT 3`,
          [ids],
        );
        throw new Error(`dead letters: ${JSON.stringify(why)}`);
      }
      const done = rows
        .filter((r) => r.status === 'processed' || r.status === 'ignored')
        .reduce((n, r) => n + r.n, 0);
      return done === ids.length;
    },
    `all ${ids.length} events processed`,
    timeoutMs,
  ).catch(async (e: unknown) => {
    if (e instanceof Error && e.message.startsWith('dead letters')) throw e;
    const rows = await stack.db.query<{ status: string; n: number }[]>(
      `SELECT status, count(*)::int AS n FROM webhook_events WHERE id = ANY($1) GROUP BY status`,
      [ids],
    );
    throw new Error(`${String(e)}; inbox: ${JSON.stringify(rows)}`);
  });
  return ids;
}

/** What must agree between the mirror and Stripe for one subscription. */
export interface SubscriptionProjection {
  state: string;
  stripeStatus: string;
  planId: string | null;
  interval: string | null;
  seats: number;
  cancelAtPeriodEnd: boolean;
  currentPeriodEnd: string | null;
  endedAt: string | null;
}

/** Stripe's current subscription, re-read through the SDK, projected with the domain mapping. */
export async function stripeProjection(
  stripe: Stripe,
  subscriptionId: string,
  now: Date,
): Promise<SubscriptionProjection> {
  const values = transformStripeSubscription(await stripe.subscriptions.retrieve(subscriptionId));
  return {
    state: subscriptionStateOf(values, { pastDueSince: null, now }),
    stripeStatus: values.stripeStatus,
    planId: values.planId,
    interval: values.interval,
    seats: values.seats,
    cancelAtPeriodEnd: values.cancelAtPeriodEnd,
    currentPeriodEnd: values.currentPeriodEnd?.toISOString() ?? null,
    endedAt: values.endedAt?.toISOString() ?? null,
  };
}

/** The mirror's row, projected the same way. */
export async function mirrorProjection(
  db: DataSource,
  subscriptionId: string,
): Promise<SubscriptionProjection | null> {
  const rows = await db.query<
    {
      state: string;
      stripe_status: string;
      plan_id: string | null;
      billing_interval: string | null;
      seats: number;
      cancel_at_period_end: boolean;
      current_period_end: Date | null;
      ended_at: Date | null;
    }[]
  >(`SELECT * FROM subscriptions WHERE stripe_subscription_id = $1`, [subscriptionId]);
  const row = rows[0];
  if (!row) return null;
  return {
    state: row.state,
    stripeStatus: row.stripe_status,
    planId: row.plan_id,
    interval: row.billing_interval,
    seats: row.seats,
    cancelAtPeriodEnd: row.cancel_at_period_end,
    currentPeriodEnd: row.current_period_end?.toISOString() ?? null,
    endedAt: row.ended_at?.toISOString() ?? null,
  };
}
