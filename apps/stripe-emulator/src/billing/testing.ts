/**
 * Shared set-up for the billing specs: an in-process emulator, a fresh account per test, a test
 * clock, a product with two monthly prices, and customers on the clock. Used by *.spec.ts only.
 */
import type Stripe from 'stripe';
import { type TestEmulator, startTestEmulator } from '../core/test-kit.js';

/** 2026-01-31 12:00:00 UTC: a month-end anchor, so renewals exercise the Feb 28 clamp. */
export const T0 = Date.UTC(2026, 0, 31, 12, 0, 0) / 1000;
export const HOUR = 3_600;
export const DAY = 86_400;
export const at = (iso: string): number => Date.parse(iso) / 1000;

export interface World {
  stripe: Stripe;
  key: string;
  clock: Stripe.TestHelpers.TestClock;
  product: Stripe.Product;
  basic: Stripe.Price;
  pro: Stripe.Price;
}

export async function startKit(): Promise<TestEmulator> {
  return startTestEmulator();
}

export async function makeWorld(kit: TestEmulator, frozenTime = T0): Promise<World> {
  const { stripe, key } = kit.client();
  const clock = await stripe.testHelpers.testClocks.create({ frozen_time: frozenTime, name: 'spec' });
  const product = await stripe.products.create({ name: 'Team' });
  const basic = await stripe.prices.create({
    product: product.id,
    currency: 'usd',
    unit_amount: 1000,
    recurring: { interval: 'month' },
    lookup_key: 'basic',
  });
  const pro = await stripe.prices.create({
    product: product.id,
    currency: 'usd',
    unit_amount: 2000,
    recurring: { interval: 'month' },
    lookup_key: 'pro',
  });
  return { stripe, key, clock, product, basic, pro };
}

/** A customer on the world's clock, optionally with a default card (`pm_card_*` shortcut). */
export async function customerOnClock(w: World, card?: string): Promise<Stripe.Customer> {
  const customer = await w.stripe.customers.create({ email: 'buyer@example.com', test_clock: w.clock.id });
  if (!card) return customer;
  await setDefaultCard(w, customer.id, card);
  return w.stripe.customers.retrieve(customer.id) as Promise<Stripe.Customer>;
}

export async function setDefaultCard(
  w: World,
  customerId: string,
  card: string,
): Promise<Stripe.PaymentMethod> {
  const pm = await w.stripe.paymentMethods.attach(card, { customer: customerId });
  await w.stripe.customers.update(customerId, { invoice_settings: { default_payment_method: pm.id } });
  return pm;
}

export async function advanceTo(w: World, frozenTime: number): Promise<Stripe.TestHelpers.TestClock> {
  return w.stripe.testHelpers.testClocks.advance(w.clock.id, { frozen_time: frozenTime });
}

/** Every event of the account, oldest first (emission order). */
export async function allEvents(w: World): Promise<Stripe.Event[]> {
  const events = await w.stripe.events.list({ limit: 100 }).autoPagingToArray({ limit: 10_000 });
  return events.reverse();
}

/** `[type, created]` of the events whose type is in `types`, oldest first. */
export async function timeline(
  w: World,
  types: readonly string[],
  after = -Infinity,
): Promise<[string, number][]> {
  return (await allEvents(w))
    .filter((e) => types.includes(e.type) && e.created > after)
    .map((e): [string, number] => [e.type, e.created]);
}

export async function latestInvoice(w: World, subscriptionId: string): Promise<Stripe.Invoice> {
  const sub = await w.stripe.subscriptions.retrieve(subscriptionId, { expand: ['latest_invoice.payments'] });
  return sub.latest_invoice as Stripe.Invoice;
}
