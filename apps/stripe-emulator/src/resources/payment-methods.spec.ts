import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type Stripe from 'stripe';
import { expectStripeShape } from '../../test-support/stripe-shapes.js';
import {
  type ReceivedWebhook,
  type TestEmulator,
  type WebhookReceiver,
  startTestEmulator,
  startWebhookReceiver,
} from '../core/test-kit.js';

describe('payment method updates: the update API and the card networks', () => {
  let kit: TestEmulator;
  let receiver: WebhookReceiver;
  const nextYear = new Date().getUTCFullYear() + 1;
  beforeAll(async () => {
    kit = await startTestEmulator();
    receiver = await startWebhookReceiver();
  });
  afterAll(async () => {
    await kit.close();
    await receiver.close();
  });

  /** A client whose events reach the receiver, and a visa card saved to a customer. */
  async function savedCard(): Promise<{ stripe: Stripe; pm: Stripe.PaymentMethod }> {
    const { stripe } = kit.client();
    await stripe.webhookEndpoints.create({ url: receiver.url, enabled_events: ['*'] });
    const customer = await stripe.customers.create({});
    const created = await stripe.paymentMethods.create({
      type: 'card',
      card: { number: '4242424242424242', exp_month: 4, exp_year: nextYear, cvc: '123' },
    });
    const pm = await stripe.paymentMethods.attach(created.id, { customer: customer.id });
    return { stripe, pm };
  }

  const hookOf = (type: string, pmId: string) => (h: ReceivedWebhook) =>
    h.event.type === type && h.event.data.object.id === pmId;

  function automaticallyUpdate(id: string, query = ''): Promise<Response> {
    return fetch(`${kit.emulator.url}/_emulator/payment_methods/${id}/automatically_update${query}`, {
      method: 'POST',
    });
  }

  it('updates the expiry and billing details of a saved card, emitting payment_method.updated', async () => {
    const { stripe, pm } = await savedCard();
    const updated = await stripe.paymentMethods.update(pm.id, {
      card: { exp_month: 11, exp_year: nextYear + 2 },
      billing_details: { name: 'Ada Lovelace' },
    });
    expect(updated.card).toMatchObject({ exp_month: 11, exp_year: nextYear + 2, last4: '4242' });
    expect(updated.billing_details.name).toBe('Ada Lovelace');
    expectStripeShape('PaymentMethod', updated);
    const hook = await receiver.next(hookOf('payment_method.updated', pm.id));
    expect(hook.event.data.object).toMatchObject({ card: { exp_month: 11, exp_year: nextYear + 2 } });
    const previous = (hook.event.data as { previous_attributes?: Record<string, unknown> })
      .previous_attributes;
    expect(previous?.card).toMatchObject({ exp_month: 4, exp_year: nextYear });
    expect((hook.event.request as { id: string | null }).id).toMatch(/^req_/);
    expect((await stripe.paymentMethods.retrieve(pm.id)).card?.exp_month).toBe(11);
  });

  it('accepts a two-digit year; refuses an invalid expiry, a method not saved to a customer, card details of PayPal', async () => {
    const { stripe, pm } = await savedCard();
    const short = await stripe.paymentMethods.update(pm.id, { card: { exp_year: (nextYear + 1) % 100 } });
    expect(short.card?.exp_year).toBe(nextYear + 1);
    await expect(stripe.paymentMethods.update(pm.id, { card: { exp_month: 13 } })).rejects.toMatchObject({
      type: 'StripeCardError',
      code: 'invalid_expiry_month',
      param: 'card[exp_month]',
    });
    await expect(stripe.paymentMethods.update(pm.id, { card: { exp_year: 2001 } })).rejects.toMatchObject({
      code: 'invalid_expiry_year',
    });
    expect((await stripe.paymentMethods.retrieve(pm.id)).card?.exp_year).toBe(nextYear + 1);

    const loose = await stripe.paymentMethods.create({
      type: 'card',
      card: { number: '4242424242424242', exp_month: 4, exp_year: nextYear, cvc: '123' },
    });
    await expect(stripe.paymentMethods.update(loose.id, { card: { exp_month: 5 } })).rejects.toMatchObject({
      statusCode: 400,
      message: 'You must save this PaymentMethod to a customer before you can update it.',
    });
    const customer = await stripe.customers.create({});
    const paypal = await stripe.paymentMethods.create({ type: 'paypal' });
    await stripe.paymentMethods.attach(paypal.id, { customer: customer.id });
    await expect(stripe.paymentMethods.update(paypal.id, { card: { exp_month: 5 } })).rejects.toMatchObject({
      statusCode: 400,
      param: 'card',
    });
  });

  it('emits nothing for an update that changes nothing', async () => {
    const { stripe, pm } = await savedCard();
    await stripe.paymentMethods.update(pm.id, { card: { exp_month: 4 } });
    await stripe.paymentMethods.update(pm.id, { metadata: { marker: 'last' } });
    const events = await stripe.events.list({ type: 'payment_method.updated' });
    expect(events.data.map((e) => (e.data.previous_attributes as Record<string, unknown>) ?? {})).toEqual([
      { metadata: {} },
    ]);
  });

  it('the card networks give a saved card a new expiry: payment_method.automatically_updated, no request', async () => {
    const { stripe, pm } = await savedCard();
    const res = await automaticallyUpdate(pm.id, `?exp_month=9&exp_year=${nextYear + 4}`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as Stripe.PaymentMethod;
    expect(body.card).toMatchObject({ exp_month: 9, exp_year: nextYear + 4, last4: '4242' });
    expectStripeShape('PaymentMethod', body);
    const hook = await receiver.next(hookOf('payment_method.automatically_updated', pm.id));
    expect(hook.event.data.object).toMatchObject({
      customer: pm.customer,
      card: { exp_month: 9, exp_year: nextYear + 4 },
    });
    expect(hook.event.request).toEqual({ id: null, idempotency_key: null });
    expect((await stripe.paymentMethods.retrieve(pm.id)).card).toMatchObject({ exp_month: 9 });

    // Without an expiry: a reissued card, the same month three years later.
    const again = (await (await automaticallyUpdate(pm.id)).json()) as Stripe.PaymentMethod;
    expect(again.card).toMatchObject({ exp_month: 9, exp_year: nextYear + 7 });
    const events = await stripe.events.list({ type: 'payment_method.automatically_updated' });
    expect(events.data).toHaveLength(2);
  });

  it('the card networks update only saved cards, with a valid expiry', async () => {
    const { stripe, pm } = await savedCard();
    expect((await automaticallyUpdate(pm.id, '?exp_month=0')).status).toBe(402);
    expect((await automaticallyUpdate('pm_missing')).status).toBe(404);
    const loose = await stripe.paymentMethods.create({
      type: 'card',
      card: { number: '4242424242424242', exp_month: 4, exp_year: nextYear, cvc: '123' },
    });
    expect((await automaticallyUpdate(loose.id)).status).toBe(400);
    expect((await stripe.paymentMethods.retrieve(loose.id)).card?.exp_year).toBe(nextYear);
    expect((await stripe.events.list({ type: 'payment_method.automatically_updated' })).data).toHaveLength(0);
  });

  it('a reissued card gets its new number from the networks: last4 and brand change, its charges follow the new card', async () => {
    const { stripe } = kit.client();
    await stripe.webhookEndpoints.create({ url: receiver.url, enabled_events: ['*'] });
    const customer = await stripe.customers.create({});
    const failing = await stripe.paymentMethods.attach('pm_card_chargeCustomerFail', {
      customer: customer.id,
    });
    const charge = () =>
      stripe.paymentIntents.create({
        amount: 1500,
        currency: 'usd',
        customer: customer.id,
        payment_method: failing.id,
        off_session: true,
        confirm: true,
      });
    await expect(charge()).rejects.toMatchObject({ type: 'StripeCardError', code: 'card_declined' });

    const res = await automaticallyUpdate(
      failing.id,
      `?number=5555555555554444&exp_month=2&exp_year=${nextYear + 3}`,
    );
    expect(res.status).toBe(200);
    const body = (await res.json()) as Stripe.PaymentMethod;
    expect(body.id).toBe(failing.id);
    expect(body.card).toMatchObject({
      brand: 'mastercard',
      display_brand: 'mastercard',
      last4: '4444',
      exp_month: 2,
      exp_year: nextYear + 3,
    });
    expect(body.card?.fingerprint).not.toBe(failing.card?.fingerprint);
    expectStripeShape('PaymentMethod', body);
    const hook = await receiver.next(hookOf('payment_method.automatically_updated', failing.id));
    expect(hook.event.data.object).toMatchObject({ card: { last4: '4444', exp_month: 2 } });
    expect(hook.event.request).toEqual({ id: null, idempotency_key: null });
    expect((await stripe.paymentMethods.retrieve(failing.id)).card?.last4).toBe('4444');
    // The reissued card is charged like the new number's test card: approved.
    expect((await charge()).status).toBe('succeeded');

    // A number that is no card is refused, and changes nothing.
    expect((await automaticallyUpdate(failing.id, '?number=4242424242424241')).status).toBe(400);
    expect((await stripe.paymentMethods.retrieve(failing.id)).card).toMatchObject({
      last4: '4444',
      exp_month: 2,
    });
    const events = await stripe.events.list({ type: 'payment_method.automatically_updated' });
    expect(events.data.filter((e) => (e.data.object as Stripe.PaymentMethod).id === failing.id)).toHaveLength(
      1,
    );
  });

  it("a card's next charges can be made to succeed, and to fail again (emulator-only, no event)", async () => {
    const { stripe } = kit.client();
    const customer = await stripe.customers.create({});
    const pm = await stripe.paymentMethods.attach('pm_card_chargeCustomerFail', { customer: customer.id });
    const outcome = (id: string, value?: string) =>
      fetch(
        `${kit.emulator.url}/_emulator/payment_methods/${id}/charges${value ? `?outcome=${value}` : ''}`,
        {
          method: 'POST',
        },
      );
    const charge = async (): Promise<string> => {
      try {
        return (
          await stripe.paymentIntents.create({
            amount: 900,
            currency: 'usd',
            customer: customer.id,
            payment_method: pm.id,
            off_session: true,
            confirm: true,
          })
        ).status;
      } catch (error) {
        return (error as { code?: string }).code ?? 'error';
      }
    };
    const before = await stripe.events.list({ limit: 100 });
    expect(await charge()).toBe('card_declined');
    expect((await outcome(pm.id, 'succeed')).status).toBe(200);
    expect(await charge()).toBe('succeeded');
    expect(await charge()).toBe('succeeded');
    expect((await outcome(pm.id, 'fail')).status).toBe(200);
    expect(await charge()).toBe('card_declined');
    // The card itself is unchanged, and no payment_method event was sent for it.
    expect((await stripe.paymentMethods.retrieve(pm.id)).card).toMatchObject({ last4: '0341' });
    const after = await stripe.events.list({ limit: 100 });
    const pmEvents = after.data
      .filter((e) => !before.data.some((b) => b.id === e.id))
      .filter((e) => e.type.startsWith('payment_method.'));
    expect(pmEvents).toEqual([]);
    // Bad input: 400 / 404, nothing changes.
    expect((await outcome(pm.id)).status).toBe(400);
    expect((await outcome(pm.id, 'maybe')).status).toBe(400);
    expect((await outcome('pm_missing', 'succeed')).status).toBe(404);
    expect(await charge()).toBe('card_declined');
  });

  it('a test card saved to a customer on a test clock expires three years after the clock time', async () => {
    const { stripe } = kit.client();
    const clock = await stripe.testHelpers.testClocks.create({
      frozen_time: Math.floor(Date.UTC(2041, 6, 10) / 1000),
    });
    const onClock = await stripe.customers.create({ test_clock: clock.id });
    const pm = await stripe.paymentMethods.attach('pm_card_visa', { customer: onClock.id });
    expect(pm.card).toMatchObject({ exp_month: 7, exp_year: 2044 });
    const realTime = await stripe.customers.create({});
    const now = new Date();
    const plain = await stripe.paymentMethods.attach('pm_card_visa', { customer: realTime.id });
    expect(plain.card).toMatchObject({
      exp_month: now.getUTCMonth() + 1,
      exp_year: now.getUTCFullYear() + 3,
    });
  });
});

describe('payment method detachment is permanent', () => {
  let kit: TestEmulator;
  beforeAll(async () => {
    kit = await startTestEmulator();
  });
  afterAll(async () => {
    await kit.close();
  });

  it('refuses a detached method wherever it is used again (attach, customer, payment, setup), as Stripe does', async () => {
    const { stripe } = kit.client();
    const customer = await stripe.customers.create({});
    const created = await stripe.paymentMethods.create({
      type: 'card',
      card: { number: '4242424242424242', exp_month: 4, exp_year: new Date().getUTCFullYear() + 1, cvc: '1' },
    });
    await stripe.paymentMethods.attach(created.id, { customer: customer.id });
    expect((await stripe.paymentMethods.detach(created.id)).customer).toBeNull();

    const refusal = {
      statusCode: 400,
      type: 'StripeInvalidRequestError',
      rawType: 'invalid_request_error',
      message:
        'This PaymentMethod was previously used without being attached to a Customer or was detached from a Customer, and may not be used again.',
    };
    await expect(stripe.paymentMethods.attach(created.id, { customer: customer.id })).rejects.toMatchObject(
      refusal,
    );
    const other = await stripe.customers.create({});
    await expect(stripe.paymentMethods.attach(created.id, { customer: other.id })).rejects.toMatchObject(
      refusal,
    );
    await expect(stripe.customers.create({ payment_method: created.id })).rejects.toMatchObject(refusal);
    // Nor can it pay or be set up again.
    await expect(
      stripe.paymentIntents.create({
        amount: 1000,
        currency: 'usd',
        payment_method: created.id,
        confirm: true,
      }),
    ).rejects.toMatchObject({ ...refusal, param: 'payment_method' });
    await expect(
      stripe.setupIntents.create({ payment_method: created.id, confirm: true }),
    ).rejects.toMatchObject({ ...refusal, param: 'payment_method' });

    expect((await stripe.paymentMethods.retrieve(created.id)).customer).toBeNull();
    expect((await stripe.paymentMethods.list({ customer: customer.id })).data).toEqual([]);
    const attached = await stripe.events.list({ type: 'payment_method.attached' });
    expect(attached.data.map((e) => (e.data.object as Stripe.PaymentMethod).id)).toEqual([created.id]);
  });
});
