import { randomUUID } from 'node:crypto';
import type Stripe from 'stripe';
import { startTestEmulator, type TestEmulator } from '../../apps/stripe-emulator/src/core/test-kit.js';
import { TcpProxy } from './tcp-proxy.js';
import { startTestApp, tokenFor, type TestApp, type TestAppOptions } from './test-app.js';

/** The secret the emulator signs its webhooks with in these worlds. */
export const WORLD_WEBHOOK_SECRET = 'whsec_test_world_secret';

/** The real app (api + worker, or the api alone) fed by an in-process emulator's signed webhooks. */
export interface StripeWorld {
  kit: TestEmulator;
  t: TestApp;
  stripe: Stripe;
  key: string;
  admin: string;
  close(): Promise<void>;
}

/**
 * Starts the emulator delivering to a port that is only known once the app listens: a TCP proxy listens
 * on a port of its own up front, the emulator delivers to it, and it forwards to the app's random port.
 */
export async function startStripeWorld(
  options: {
    env?: Record<string, string>;
    secret?: string;
    /** The event types the endpoint is enabled for; every type by default. */
    events?: readonly string[];
    /** Extra providers of the app (e.g. a test's recording listener). */
    providers?: TestAppOptions['providers'];
    /** The in-process app's role: `all` by default; `api` when the test runs its workers as processes. */
    role?: TestAppOptions['role'];
    /** The app's clock: a ManualClock stopped at the start by default. */
    clock?: TestAppOptions['clock'];
  } = {},
): Promise<StripeWorld> {
  const secret = options.secret ?? WORLD_WEBHOOK_SECRET;
  // The emulator delivers to the proxy's port; the proxy forwards to the app once it listens.
  const proxy = new TcpProxy('127.0.0.1', 0);
  const port = await proxy.start(0);
  const key = `sk_test_${randomUUID().replace(/-/g, '')}`;
  const url = `http://127.0.0.1:${port}/webhooks/stripe`;
  const kit = await startTestEmulator(
    options.events
      ? { delivery: { globalEndpoints: [{ url, secret, enabledEvents: [...options.events] }] } }
      : { webhookUrl: url, webhookSecret: secret },
  );
  const t = await startTestApp({
    role: options.role ?? 'all',
    ...(options.providers ? { providers: options.providers } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
    env: {
      STRIPE_API_BASE: kit.emulator.url,
      STRIPE_SECRET_KEY: key,
      STRIPE_WEBHOOK_SECRETS: secret,
      ...options.env,
    },
  });
  proxy.forwardTo('127.0.0.1', Number(new URL(t.url).port));
  return {
    kit,
    t,
    stripe: kit.client({ key }).stripe,
    key,
    admin: await tokenFor({ sub: 'admin-1', role: 'admin' }),
    close: async () => {
      await proxy.stop();
      await t.close();
      await kit.close();
    },
  };
}

/**
 * Gives the account a new Stripe customer on the test clock `clock` (as Stripe's test mode allows),
 * linked by its metadata and made the account's customer; returns the customer id.
 */
export async function customerOnClock(
  w: Pick<StripeWorld, 'stripe' | 't'>,
  accountId: string,
  clock: string,
  email?: string,
): Promise<string> {
  const customer = await w.stripe.customers.create({
    test_clock: clock,
    ...(email ? { email } : {}),
    metadata: { account_id: accountId },
  });
  await w.t.db.query(`UPDATE accounts SET stripe_customer_id = $2 WHERE id = $1`, [accountId, customer.id]);
  return customer.id;
}
