import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type Stripe from 'stripe';
import { expectStripeShape } from '../../test-support/stripe-shapes.js';
import type { TestEmulator } from '../core/test-kit.js';
import { customerOnClock, makeWorld, startKit } from '../billing/testing.js';

let kit: TestEmulator;
beforeAll(async () => {
  kit = await startKit();
});
afterAll(async () => {
  await kit.close();
});

async function post(url: string, fields: Record<string, string>): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
    redirect: 'manual',
  });
}

describe('billing portal sessions', () => {
  it('shows the subscriptions, cancels at period end and renews, then returns to return_url', async () => {
    const w = await makeWorld(kit);
    const c = await customerOnClock(w, 'pm_card_visa');
    const sub = await w.stripe.subscriptions.create({ customer: c.id, items: [{ price: w.basic.id }] });
    const session = await w.stripe.billingPortal.sessions.create({
      customer: c.id,
      return_url: 'https://app.example.com/account',
    });
    expectStripeShape('BillingPortal.Session', session);
    expect(session.url).toBe(`${kit.emulator.url}/_emulator/portal/${session.id}`);
    const html = await (await fetch(session.url)).text();
    expect(html).toContain('Team');
    expect(html).toContain('Cancel at period end');

    const cancel = await post(`${session.url}/subscription`, { subscription: sub.id, action: 'cancel' });
    expect(cancel.status).toBe(303);
    expect(cancel.headers.get('location')).toBe('https://app.example.com/account');
    expect(await w.stripe.subscriptions.retrieve(sub.id)).toMatchObject({
      cancel_at_period_end: true,
      status: 'active',
    });
    expect(await (await fetch(session.url)).text()).toContain('Renew subscription');

    await post(`${session.url}/subscription`, { subscription: sub.id, action: 'renew' });
    expect(await w.stripe.subscriptions.retrieve(sub.id)).toMatchObject({
      cancel_at_period_end: false,
      cancel_at: null,
    });
  });

  it('changes the default card', async () => {
    const w = await makeWorld(kit);
    const c = await customerOnClock(w, 'pm_card_visa');
    const session = await w.stripe.billingPortal.sessions.create({
      customer: c.id,
      return_url: 'https://app.example.com/account',
    });
    const res = await post(`${session.url}/payment-method`, {
      payment_method: '',
      new_payment_method: 'pm_card_mastercard',
    });
    expect(res.status).toBe(303);
    const customer = (await w.stripe.customers.retrieve(c.id, {
      expand: ['invoice_settings.default_payment_method'],
    })) as Stripe.Customer;
    const pm = customer.invoice_settings.default_payment_method as Stripe.PaymentMethod;
    expect(pm.card?.brand).toBe('mastercard');
    expect(pm.customer).toBe(c.id);
    // A card that declines at attach is refused on the page and nothing changes.
    const refused = await post(`${session.url}/payment-method`, {
      payment_method: '',
      new_payment_method: 'pm_card_chargeDeclined',
    });
    expect(refused.status).toBe(402);
    expect(await refused.text()).toContain('Your card was declined.');
    const after = (await w.stripe.customers.retrieve(c.id)) as Stripe.Customer;
    expect(after.invoice_settings.default_payment_method).toBe(pm.id);
  });

  it('requires a known customer', async () => {
    const w = await makeWorld(kit);
    await expect(w.stripe.billingPortal.sessions.create({ customer: 'cus_missing' })).rejects.toMatchObject({
      statusCode: 404,
      param: 'customer',
    });
  });
});
