import { randomUUID } from 'node:crypto';
import type Stripe from 'stripe';
import type { StripeWorld } from '../support/stripe-world.js';
import { http, tokenFor } from '../support/test-app.js';
import type { createCatalogue } from './stripe-mirrors.support.js';
import { until } from './webhooks.support.js';

export const DAY = 86_400;

/** An account of the members and seats suites: its owner's known user id and token, on a test clock. */
export interface SeatsAccount {
  accountId: string;
  ownerId: string;
  owner: string;
  customerId: string;
  clockId: string;
  subscriptionId: string;
  /** The test clock's time (Unix seconds) the app's clock is kept at. */
  now: number;
}

export type Prices = Awaited<ReturnType<typeof createCatalogue>>;

/** Moves the Stripe test clock and the app's clock together to `to` (Unix seconds). */
export async function advanceBoth(w: StripeWorld, a: SeatsAccount, to: number): Promise<void> {
  await w.stripe.testHelpers.testClocks.advance(a.clockId, { frozen_time: to });
  w.t.clock.set(new Date(to * 1000));
  a.now = to;
}

/**
 * An account (admin API, owner `alice-…`) whose customer is on a test clock started at the app's time,
 * paying by `card`, subscribed to Pro monthly with `seats` add-on seats, mirrored active.
 */
export async function subscribedAccount(
  w: StripeWorld,
  prices: Prices,
  options: { seats?: number; card?: string } = {},
): Promise<SeatsAccount> {
  const ownerId = `alice-${randomUUID()}`;
  const created = await http<{ id: string }>(w.t.url, 'POST', '/v1/admin/accounts', {
    token: w.admin,
    headers: { 'idempotency-key': randomUUID() },
    body: {
      name: `Seats ${randomUUID().slice(0, 8)}`,
      billingEmail: `billing-${randomUUID().slice(0, 8)}@example.test`,
      owner: { userId: ownerId, email: `${ownerId}@example.test` },
    },
  });
  if (created.status !== 201) throw new Error(`account creation answered ${created.status}`);
  const accountId = created.body.id;
  const now = Math.floor(w.t.clock.now().getTime() / 1000);
  const clock = await w.stripe.testHelpers.testClocks.create({ frozen_time: now });
  const customer = await w.stripe.customers.create({
    test_clock: clock.id,
    metadata: { account_id: accountId },
  });
  await w.t.db.query(`UPDATE accounts SET stripe_customer_id = $2 WHERE id = $1`, [accountId, customer.id]);
  const pm = await w.stripe.paymentMethods.attach(options.card ?? 'pm_card_visa', { customer: customer.id });
  await w.stripe.customers.update(customer.id, { invoice_settings: { default_payment_method: pm.id } });
  const sub = await w.stripe.subscriptions.create({
    customer: customer.id,
    items: [{ price: prices.proMonth }, { price: prices.proMonthSeat, quantity: options.seats ?? 0 }],
  });
  await until(async () => {
    const rows = await w.t.db.query<{ state: string; seats: number }[]>(
      `SELECT state, seats FROM subscriptions WHERE stripe_subscription_id = $1`,
      [sub.id],
    );
    return rows[0]?.state === 'active' && rows[0].seats === (options.seats ?? 0);
  }, 'the subscription mirrored active');
  return {
    accountId,
    ownerId,
    owner: await tokenFor({ sub: ownerId, role: 'owner', accountId }),
    customerId: customer.id,
    clockId: clock.id,
    subscriptionId: sub.id,
    now,
  };
}

/** POST /v1/accounts/{id}/members as the owner. */
export function addMember(
  w: StripeWorld,
  a: SeatsAccount,
  body: { userId: string; email?: string; buySeat?: boolean; quoteId?: string },
  key: string = randomUUID(),
) {
  return http<AddMemberJson>(w.t.url, 'POST', `/v1/accounts/${a.accountId}/members`, {
    token: a.owner,
    headers: { 'idempotency-key': key },
    body: { email: `${body.userId}@example.test`, ...body },
  });
}

/** Adds members until every seat of the account is taken (Pro: 5 included, the owner is one). */
export async function fillSeats(w: StripeWorld, a: SeatsAccount, total: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 1; i < total; i++) {
    const userId = `member-${i}-${randomUUID().slice(0, 8)}`;
    const res = await addMember(w, a, { userId });
    if (res.status !== 201)
      throw new Error(`adding ${userId} answered ${res.status}: ${JSON.stringify(res.body)}`);
    ids.push(userId);
  }
  return ids;
}

/** The seat item's quantity at Stripe. */
export async function stripeSeats(w: StripeWorld, a: SeatsAccount, prices: Prices): Promise<number> {
  const sub = await w.stripe.subscriptions.retrieve(a.subscriptionId);
  return sub.items.data.find((i) => i.price.id === prices.proMonthSeat)?.quantity ?? 0;
}

/** Stripe's proration of `qty` seats at `unit` from `at` to the end of the item's period, as it rounds. */
export async function prorated(
  w: StripeWorld,
  a: SeatsAccount,
  prices: Prices,
  unit: number,
  qty: number,
  at: number,
): Promise<number> {
  const sub = await w.stripe.subscriptions.retrieve(a.subscriptionId);
  const item = sub.items.data.find((i) => i.price.id === prices.proMonthSeat) ?? sub.items.data[0]!;
  const { current_period_start: start, current_period_end: end } = item;
  const exact = (unit * qty * (end - at)) / (end - start);
  return Math.sign(exact) * Math.round(Math.abs(exact));
}

export interface SeatChangeJson {
  fromSeats: number;
  toSeats: number;
  price: {
    quoteId: string;
    amountMinor: number;
    amountDue: number;
    currency: string;
    prorationDate: string;
    priceLockedUntil: string;
  };
  invoiceId: string | null;
  amountCharged: number;
  quote: { id: string; kind: string; status: string; amountDueNow: number };
}

export interface SeatCountsJson {
  used: number;
  included: number;
  purchased: number;
  total: number;
}

export interface AddMemberJson {
  member?: { userId: string; role: string };
  seats?: SeatCountsJson;
  purchase?: SeatChangeJson | null;
  error?: { code: string; details?: Record<string, unknown> };
}

export type StripeInvoice = Stripe.Invoice;
