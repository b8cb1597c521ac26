import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type Stripe from 'stripe';
import { expectStripeShape } from '../../test-support/stripe-shapes.js';
import type { TestEmulator } from '../core/test-kit.js';
import { allEvents, makeWorld, startKit } from '../billing/testing.js';

let kit: TestEmulator;
beforeAll(async () => {
  kit = await startKit();
});
afterAll(async () => {
  await kit.close();
});

const SUCCESS = 'https://app.example.com/billing/done?session={CHECKOUT_SESSION_ID}';

/** Posts an HTML form the way a browser does, without following the redirect. */
async function submitForm(url: string, fields: Record<string, string>): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
    redirect: 'manual',
  });
}

function formAction(html: string): string {
  const match = /<form method="post" action="([^"]+)"/.exec(html);
  if (!match?.[1]) throw new Error('no form in the page');
  return match[1];
}

describe('checkout sessions', () => {
  it('subscription mode completed programmatically creates customer, subscription and first invoice', async () => {
    const w = await makeWorld(kit);
    const session = await w.stripe.checkout.sessions.create({
      mode: 'subscription',
      line_items: [{ price: w.basic.id, quantity: 2 }],
      success_url: SUCCESS,
      cancel_url: 'https://app.example.com/billing',
      customer_email: 'new@example.com',
      client_reference_id: 'account_42',
      metadata: { plan: 'basic' },
      subscription_data: { metadata: { seats: '2' } },
    });
    expectStripeShape('Checkout.Session', session);
    expect(session).toMatchObject({
      status: 'open',
      payment_status: 'unpaid',
      amount_total: 2000,
      currency: 'usd',
      customer: null,
    });
    expect(session.url).toBe(`${kit.emulator.url}/_emulator/checkout/${session.id}`);
    const items = await w.stripe.checkout.sessions.listLineItems(session.id);
    expectStripeShape('List', items);
    expect(items.data.map((i) => [i.price?.id, i.quantity, i.amount_total])).toEqual([[w.basic.id, 2, 2000]]);

    const res = await submitForm(`${session.url}/complete`, { payment_method: 'pm_card_visa' });
    expect(res.status).toBe(200);
    const done = await w.stripe.checkout.sessions.retrieve(session.id, {
      expand: ['subscription', 'invoice'],
    });
    expect(done).toMatchObject({
      status: 'complete',
      payment_status: 'paid',
      client_reference_id: 'account_42',
      url: null,
    });
    const sub = done.subscription as Stripe.Subscription;
    expect(sub).toMatchObject({ status: 'active', metadata: { seats: '2' }, customer: done.customer });
    expect(sub.items.data[0]?.quantity).toBe(2);
    expect(sub.default_payment_method).toMatch(/^pm_/);
    expect(done.invoice).toMatchObject({ status: 'paid', amount_paid: 2000 });
    const customer = (await w.stripe.customers.retrieve(done.customer as string)) as Stripe.Customer;
    expect(customer.email).toBe('new@example.com');
    const types = (await allEvents(w)).map((e) => e.type);
    expect(types.indexOf('customer.created')).toBeLessThan(types.indexOf('customer.subscription.created'));
    expect(types.indexOf('invoice.paid')).toBeLessThan(types.indexOf('checkout.session.completed'));
    const completed = (await allEvents(w)).find((e) => e.type === 'checkout.session.completed');
    expect(completed?.data.object).toMatchObject({
      id: session.id,
      client_reference_id: 'account_42',
      subscription: sub.id,
    });
  });

  it('the hosted page takes a declined card, shows the error, then pays and redirects to success_url', async () => {
    const w = await makeWorld(kit);
    const product = await w.stripe.products.create({ name: 'Credits pack' });
    const once = await w.stripe.prices.create({ product: product.id, currency: 'usd', unit_amount: 4900 });
    const session = await w.stripe.checkout.sessions.create({
      mode: 'payment',
      line_items: [{ price: once.id, quantity: 1 }],
      success_url: SUCCESS,
      cancel_url: 'https://app.example.com/cancel',
    });
    const page = await fetch(session.url!);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('Credits pack');
    expect(html).toContain('49.00 USD');
    expect(html).toContain('https://app.example.com/cancel');
    const action = new URL(formAction(html), kit.emulator.url).toString();

    const declined = await submitForm(action, {
      payment_method: 'pm_card_chargeDeclinedInsufficientFunds',
      email: 'p@example.com',
    });
    expect(declined.status).toBe(402);
    expect(await declined.text()).toContain('Your card has insufficient funds.');
    expect((await w.stripe.checkout.sessions.retrieve(session.id)).status).toBe('open');

    const paid = await submitForm(action, {
      payment_method: '',
      card_number: '4242 4242 4242 4242',
      email: 'p@example.com',
    });
    expect(paid.status).toBe(303);
    expect(paid.headers.get('location')).toBe(`https://app.example.com/billing/done?session=${session.id}`);
    const done = await w.stripe.checkout.sessions.retrieve(session.id, { expand: ['payment_intent'] });
    expectStripeShape('Checkout.Session', done);
    expect(done).toMatchObject({ status: 'complete', payment_status: 'paid', customer: null });
    expect(done.customer_details?.email).toBe('p@example.com');
    expect(done.payment_intent).toMatchObject({ status: 'succeeded', amount: 4900 });
    // A completed session cannot be paid twice.
    const again = await submitForm(action, { payment_method: 'pm_card_visa' });
    expect(again.status).toBe(400);
  });

  it('the hosted page of a subscription shows its interval and what it bills', async () => {
    const w = await makeWorld(kit);
    const yearly = await w.stripe.prices.create({
      product: w.product.id,
      currency: 'usd',
      unit_amount: 29000,
      recurring: { interval: 'year' },
    });
    const seat = await w.stripe.prices.create({
      product: w.product.id,
      currency: 'usd',
      unit_amount: 6000,
      recurring: { interval: 'year' },
    });
    const annual = await w.stripe.checkout.sessions.create({
      mode: 'subscription',
      line_items: [
        { price: yearly.id, quantity: 1 },
        { price: seat.id, quantity: 2 },
      ],
      success_url: SUCCESS,
    });
    const html = await (await fetch(annual.url!)).text();
    expect(html).toContain('290.00 USD <span class="interval">per year</span>');
    expect(html).toContain('120.00 USD <span class="interval">per year</span>');
    expect(html).toMatch(
      /<p id="recurring">Then <strong>410\.00 USD<\/strong> per <span id="interval">year<\/span>, billed yearly\.<\/p>/,
    );
    const monthly = await w.stripe.checkout.sessions.create({
      mode: 'subscription',
      line_items: [{ price: w.basic.id, quantity: 1 }],
      success_url: SUCCESS,
    });
    expect(await (await fetch(monthly.url!)).text()).toContain(
      'per <span id="interval">month</span>, billed monthly.',
    );
    // A one-time payment has no interval.
    const product = await w.stripe.products.create({ name: 'Credits pack' });
    const once = await w.stripe.prices.create({ product: product.id, currency: 'usd', unit_amount: 4900 });
    const payment = await w.stripe.checkout.sessions.create({
      mode: 'payment',
      line_items: [{ price: once.id, quantity: 1 }],
      success_url: SUCCESS,
    });
    const paymentHtml = await (await fetch(payment.url!)).text();
    expect(paymentHtml).not.toContain('class="interval"');
    expect(paymentHtml).not.toContain('id="recurring"');
  });

  it('a trial through the hosted page needs no payment and starts trialing', async () => {
    const w = await makeWorld(kit);
    const customer = await w.stripe.customers.create({ email: 'trial@example.com' });
    const session = await w.stripe.checkout.sessions.create({
      mode: 'subscription',
      customer: customer.id,
      line_items: [{ price: w.pro.id, quantity: 1 }],
      success_url: SUCCESS,
      subscription_data: { trial_period_days: 14 },
    });
    expect(session).toMatchObject({ amount_total: 0, payment_status: 'no_payment_required' });
    const res = await submitForm(session.url!, { payment_method: 'pm_card_visa' });
    expect(res.status).toBe(303);
    const done = await w.stripe.checkout.sessions.retrieve(session.id, {
      expand: ['subscription.latest_invoice'],
    });
    const sub = done.subscription as Stripe.Subscription;
    expect(sub.status).toBe('trialing');
    expect(sub.customer).toBe(customer.id);
    expect(sub.latest_invoice).toMatchObject({ amount_due: 0, status: 'paid' });
  });

  it('setup mode saves the card with a succeeded SetupIntent', async () => {
    const w = await makeWorld(kit);
    const session = await w.stripe.checkout.sessions.create({
      mode: 'setup',
      currency: 'usd',
      success_url: SUCCESS,
    });
    expect(session).toMatchObject({ amount_total: null, payment_status: 'no_payment_required' });
    const res = await submitForm(`${session.url}/complete`, {
      payment_method: 'pm_card_authenticationRequiredOnSetup',
      email: 'setup@example.com',
    });
    expect(res.status).toBe(200);
    const done = await w.stripe.checkout.sessions.retrieve(session.id, { expand: ['setup_intent'] });
    const si = done.setup_intent as Stripe.SetupIntent;
    expect(si).toMatchObject({ status: 'succeeded', customer: done.customer });
    const methods = await w.stripe.paymentMethods.list({ customer: done.customer as string, type: 'card' });
    expect(methods.data.map((m) => m.id)).toEqual([si.payment_method]);
  });

  it('expires an open session; the page and completion then refuse it', async () => {
    const w = await makeWorld(kit);
    const session = await w.stripe.checkout.sessions.create({
      mode: 'subscription',
      line_items: [{ price: w.basic.id }],
      success_url: SUCCESS,
    });
    const expired = await w.stripe.checkout.sessions.expire(session.id);
    expect(expired).toMatchObject({ status: 'expired', url: null });
    await expect(w.stripe.checkout.sessions.expire(session.id)).rejects.toMatchObject({
      type: 'StripeInvalidRequestError',
    });
    const page = await (await fetch(session.url!)).text();
    expect(page).toContain('This Checkout Session is expired.');
    const res = await submitForm(`${session.url}/complete`, { payment_method: 'pm_card_visa' });
    expect(res.status).toBe(400);
    expect((await allEvents(w)).filter((e) => e.type === 'checkout.session.expired')).toHaveLength(1);
    const list = await w.stripe.checkout.sessions.list({ status: 'expired' });
    expect(list.data.map((s) => s.id)).toEqual([session.id]);
  });

  it('validates line items for the mode', async () => {
    const w = await makeWorld(kit);
    await expect(
      w.stripe.checkout.sessions.create({
        mode: 'payment',
        line_items: [{ price: w.basic.id }],
        success_url: SUCCESS,
      }),
    ).rejects.toMatchObject({
      type: 'StripeInvalidRequestError',
      param: 'line_items[0][price]',
    });
    await expect(
      w.stripe.checkout.sessions.create({ mode: 'subscription', success_url: SUCCESS }),
    ).rejects.toMatchObject({ param: 'line_items' });
  });
});
