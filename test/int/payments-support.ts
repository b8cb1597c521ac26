import { randomUUID } from 'node:crypto';
import net from 'node:net';
import type Stripe from 'stripe';
import { startTestEmulator, type TestEmulator } from '../../apps/stripe-emulator/src/core/test-kit.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { http, startTestApp, tokenFor, type TestApp } from '../support/test-app.js';
import { createAccount, SECRET, until } from './webhooks.support.js';

/** The payments suites' world: emulator -> signed webhooks -> the real app (api + worker). */
export interface PaymentsWorld {
  kit: TestEmulator;
  t: TestApp;
  stripe: Stripe;
  key: string;
  admin: string;
  close(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export async function startPaymentsWorld(env: Record<string, string> = {}): Promise<PaymentsWorld> {
  const port = await freePort();
  const key = `sk_test_${randomUUID().replace(/-/g, '')}`;
  const kit = await startTestEmulator({
    webhookUrl: `http://127.0.0.1:${port}/webhooks/stripe`,
    webhookSecret: SECRET,
  });
  const t = await startTestApp({
    role: 'all',
    env: {
      STRIPE_API_BASE: kit.emulator.url,
      STRIPE_SECRET_KEY: key,
      STRIPE_WEBHOOK_SECRETS: SECRET,
      ...env,
    },
  });
  const proxy = new TcpProxy('127.0.0.1', Number(new URL(t.url).port));
  await proxy.start(port);
  const { stripe } = kit.client({ key });
  const admin = await tokenFor({ sub: 'admin-1', role: 'admin' });
  return {
    kit,
    t,
    stripe,
    key,
    admin,
    close: async () => {
      await proxy.stop();
      await t.close();
      await kit.close();
    },
  };
}

export interface TestAccount {
  accountId: string;
  owner: string;
  member: string;
  customerId: string;
}

/** An account whose Stripe customer exists (made through the app's own setup-intent endpoint). */
export async function accountWithCustomer(w: PaymentsWorld): Promise<TestAccount> {
  const accountId = await createAccount(w.t.url, w.admin);
  const owner = await tokenFor({ sub: `owner-${randomUUID()}`, role: 'owner', accountId });
  const member = await tokenFor({ sub: `member-${randomUUID()}`, role: 'member', accountId });
  const si = await http<{ id: string; clientSecret: string }>(
    w.t.url,
    'POST',
    '/v1/payment-methods/setup-intents',
    { token: owner },
  );
  if (si.status !== 201) throw new Error(`setup intent answered ${si.status}: ${JSON.stringify(si.body)}`);
  const rows = await w.t.db.query<{ stripe_customer_id: string | null }[]>(
    `SELECT stripe_customer_id FROM accounts WHERE id = $1`,
    [accountId],
  );
  const customerId = rows[0]?.stripe_customer_id;
  if (!customerId) throw new Error('no customer linked');
  return { accountId, owner, member, customerId };
}

/** Attaches an emulator test method (`pm_card_visa`, …) and waits for its mirror row. */
export async function attachMethod(w: PaymentsWorld, a: TestAccount, testMethod: string): Promise<string> {
  const pm = await w.stripe.paymentMethods.attach(testMethod, { customer: a.customerId });
  await until(
    async () => {
      const rows = await w.t.db.query<unknown[]>(
        `SELECT 1 FROM payment_methods WHERE stripe_payment_method_id = $1 AND status = 'attached'`,
        [pm.id],
      );
      return rows.length === 1;
    },
    `mirror of ${pm.id}`,
    15_000,
  );
  return pm.id;
}

export { http, randomUUID, until };

/**
 * A decline card saved for the account. The emulator declines most decline cards already at attach
 * (Stripe attaches them and declines the charge), so the method is created at the emulator and its
 * mirror row written as the `payment_method.attached` webhook would write it.
 */
export async function savedDeclineCard(w: PaymentsWorld, a: TestAccount, number: string): Promise<string> {
  const pm = await w.stripe.paymentMethods.create({
    type: 'card',
    card: { number, exp_month: 12, exp_year: 2034, cvc: '123' },
  });
  await w.t.db.query(
    `INSERT INTO payment_methods (id, stripe_payment_method_id, account_id, stripe_customer_id, type, card_brand,
       card_last4, card_exp_month, card_exp_year, card_funding, status, attached_at, created_at, updated_at)
     VALUES ($1, $2, $3, $4, 'card', $5, $6, 12, 2034, 'credit', 'attached', now(), now(), now())`,
    [randomUUID(), pm.id, a.accountId, a.customerId, pm.card?.brand ?? 'visa', pm.card?.last4 ?? null],
  );
  return pm.id;
}

/** Waits until every Stripe event about the object so far has been applied by the app's webhook inbox. */
export async function webhooksSettled(w: PaymentsWorld, objectId: string): Promise<void> {
  const events = (await w.stripe.events.list({ limit: 100 })).data.filter(
    (e) => (e.data.object as { id?: string }).id === objectId,
  );
  const ids = events.map((e) => e.id);
  await until(
    async () => {
      const rows = await w.t.db.query<{ n: number }[]>(
        `SELECT count(*)::int AS n FROM webhook_events WHERE id = ANY($1) AND status IN ('processed', 'ignored')`,
        [ids],
      );
      return rows[0]?.n === ids.length;
    },
    `webhooks about ${objectId}`,
    15_000,
  );
}
