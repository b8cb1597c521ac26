import { randomUUID } from 'node:crypto';
import { startStripeWorld, type StripeWorld } from '../support/stripe-world.js';
import { http, tokenFor } from '../support/test-app.js';
import { createAccount, SECRET, until } from './webhooks.support.js';

/** The payments suites' world: emulator -> signed webhooks -> the real app (api + worker). */
export type PaymentsWorld = StripeWorld;

export function startPaymentsWorld(env: Record<string, string> = {}): Promise<PaymentsWorld> {
  return startStripeWorld({ env, secret: SECRET });
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
 * A succeeded USD payment through `POST /v1/payments` with the account's saved method, once its own
 * webhooks have been applied (refunds are checked against the mirror: an early payment_intent.created
 * applied after the synchronous answer would reset amount_received for a moment).
 */
export async function paySucceeded(
  w: PaymentsWorld,
  a: TestAccount,
  method: string,
  amount: number,
): Promise<{ id: string; intentId: string }> {
  const res = await http<{ id: string; status: string; stripePaymentIntentId: string }>(
    w.t.url,
    'POST',
    '/v1/payments',
    {
      token: a.owner,
      body: { amount, currency: 'usd', paymentMethodId: method },
      headers: { 'idempotency-key': randomUUID() },
    },
  );
  if (res.status !== 201 || res.body.status !== 'succeeded')
    throw new Error(`payment answered ${res.status}`);
  await webhooksSettled(w, res.body.stripePaymentIntentId);
  return { id: res.body.id, intentId: res.body.stripePaymentIntentId };
}

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
