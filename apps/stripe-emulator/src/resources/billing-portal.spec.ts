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

  it('marks the default card and keeps the selection unless another card is chosen', async () => {
    const w = await makeWorld(kit);
    const c = await customerOnClock(w, 'pm_card_visa');
    const visa = c.invoice_settings.default_payment_method as string;
    const amex = await w.stripe.paymentMethods.attach('pm_card_amex', { customer: c.id });
    const session = await w.stripe.billingPortal.sessions.create({ customer: c.id });
    const html = await (await fetch(session.url)).text();
    // The default card is selected and marked; the other saved card is neither; no new card is preselected.
    expect(html).toContain(
      `<label class="default-method"><input type="radio" name="payment_method" value="${visa}" checked>`,
    );
    expect(html).toMatch(/visa •••• 4242 exp\. \d+\/\d+ <strong class="default-badge">Default<\/strong>/);
    expect(html).toContain(`<input type="radio" name="payment_method" value="${amex.id}"> amex`);
    expect(html).toContain('<input type="radio" name="new_payment_method" value="" checked>');
    expect(html.match(/name="new_payment_method" value="[^"]+" checked/)).toBeNull();

    const defaultOf = async (): Promise<unknown> =>
      ((await w.stripe.customers.retrieve(c.id)) as Stripe.Customer).invoice_settings.default_payment_method;
    // Submitting the form as shown keeps the default.
    expect(
      (await post(`${session.url}/payment-method`, { payment_method: visa, new_payment_method: '' })).status,
    ).toBe(303);
    expect(await defaultOf()).toBe(visa);
    // Selecting the other saved card makes it the default.
    await post(`${session.url}/payment-method`, { payment_method: amex.id, new_payment_method: '' });
    expect(await defaultOf()).toBe(amex.id);
    // A new test card picked while a saved card is selected wins.
    await post(`${session.url}/payment-method`, {
      payment_method: amex.id,
      new_payment_method: 'pm_card_mastercard',
    });
    const pm = await w.stripe.paymentMethods.retrieve((await defaultOf()) as string);
    expect(pm).toMatchObject({ customer: c.id, card: { brand: 'mastercard' } });
    const marked = await (await fetch(session.url)).text();
    expect(marked).toContain(
      `<label class="default-method"><input type="radio" name="payment_method" value="${pm.id}" checked>`,
    );
  });

  it('preselects a test card when the customer has no default', async () => {
    const w = await makeWorld(kit);
    const c = await customerOnClock(w);
    const session = await w.stripe.billingPortal.sessions.create({ customer: c.id });
    const html = await (await fetch(session.url)).text();
    expect(html).toContain('No saved cards.');
    expect(html).not.toContain('name="new_payment_method" value=""');
    expect(html).toMatch(/name="new_payment_method" value="pm_card_visa" checked/);
  });

  it('requires a known customer', async () => {
    const w = await makeWorld(kit);
    await expect(w.stripe.billingPortal.sessions.create({ customer: 'cus_missing' })).rejects.toMatchObject({
      statusCode: 404,
      param: 'customer',
    });
  });
});
