import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import Stripe from 'stripe';
import {
  expectOpenApi2024Shape,
  expectStripeListShape,
  expectStripeShape,
} from '../../test-support/stripe-shapes.js';
import {
  type TestEmulator,
  type WebhookReceiver,
  startTestEmulator,
  startWebhookReceiver,
} from '../core/test-kit.js';
import { createAndConfirmPaymentIntent } from './payment-intents.js';

function cardError(err: unknown): Stripe.errors.StripeCardError {
  expect(err).toBeInstanceOf(Stripe.errors.StripeCardError);
  return err as Stripe.errors.StripeCardError;
}

const DECLINES: readonly [string, string, string, string][] = [
  // number, shortcut, code, decline_code
  ['4000000000000002', 'pm_card_visa_chargeDeclined', 'card_declined', 'generic_decline'],
  ['4000000000009995', 'pm_card_visa_chargeDeclinedInsufficientFunds', 'card_declined', 'insufficient_funds'],
  ['4000000000009987', 'pm_card_visa_chargeDeclinedLostCard', 'card_declined', 'lost_card'],
  ['4000000000009979', 'pm_card_visa_chargeDeclinedStolenCard', 'card_declined', 'stolen_card'],
  ['4000000000000069', 'pm_card_chargeDeclinedExpiredCard', 'expired_card', 'expired_card'],
  ['4000000000000127', 'pm_card_chargeDeclinedIncorrectCvc', 'incorrect_cvc', 'incorrect_cvc'],
  ['4000000000000119', 'pm_card_chargeDeclinedProcessingError', 'processing_error', 'processing_error'],
];

describe('payment resources', () => {
  let kit: TestEmulator;
  let receiver: WebhookReceiver;
  beforeAll(async () => {
    kit = await startTestEmulator({ settings: { refundSettleMs: 5 } });
    receiver = await startWebhookReceiver();
  });
  afterAll(async () => {
    await kit.close();
    await receiver.close();
  });

  async function withHooks(): Promise<{ stripe: Stripe; key: string }> {
    const client = kit.client();
    await client.stripe.webhookEndpoints.create({ url: receiver.url, enabled_events: ['*'] });
    return client;
  }

  function cardParams(number: string): Stripe.PaymentMethodCreateParams {
    return {
      type: 'card',
      card: { number, exp_month: 12, exp_year: new Date().getUTCFullYear() + 2, cvc: '123' },
    };
  }

  describe('payment methods', () => {
    it('creates card methods from numbers with brand, last4, expiry and funding', async () => {
      const { stripe } = kit.client();
      const credit = await stripe.paymentMethods.create(cardParams('4242424242424242'));
      expect(credit.card).toMatchObject({ brand: 'visa', last4: '4242', funding: 'credit', exp_month: 12 });
      expectStripeShape('PaymentMethod', credit);
      const debit = await stripe.paymentMethods.create(cardParams('4000056655665556'));
      expect(debit.card).toMatchObject({ brand: 'visa', funding: 'debit', last4: '5556' });
      const mc = await stripe.paymentMethods.create(cardParams('5555555555554444'));
      expect(mc.card).toMatchObject({ brand: 'mastercard', funding: 'credit' });
      const amex = await stripe.paymentMethods.create(cardParams('378282246310005'));
      expect(amex.card).toMatchObject({ brand: 'amex', last4: '0005' });
      await expect(stripe.paymentMethods.create(cardParams('4242424242424241'))).rejects.toMatchObject({
        type: 'StripeCardError',
        code: 'incorrect_number',
      });
    });

    it('accepts pm_card_* and tok_* shortcuts and created tokens wherever a method id is', async () => {
      const { stripe } = kit.client();
      const customer = await stripe.customers.create({});
      const fromShortcut = await stripe.paymentMethods.attach('pm_card_mastercard', {
        customer: customer.id,
      });
      expect(fromShortcut.id).toMatch(/^pm_/);
      expect(fromShortcut.card?.brand).toBe('mastercard');
      const fromTok = await stripe.paymentMethods.attach('tok_visa_debit', { customer: customer.id });
      expect(fromTok.card?.funding).toBe('debit');

      const token = await stripe.tokens.create({
        card: {
          number: '5555555555554444',
          exp_month: '10',
          exp_year: String(new Date().getUTCFullYear() + 1),
          cvc: '314',
        },
      });
      expect(token.id).toMatch(/^tok_/);
      const fromToken = await stripe.paymentMethods.create({ type: 'card', card: { token: token.id } });
      expect(fromToken.card).toMatchObject({ brand: 'mastercard', exp_month: 10 });

      const pi = await stripe.paymentIntents.create({
        amount: 700,
        currency: 'eur',
        payment_method: 'pm_card_amex',
        confirm: true,
      });
      expect(pi.status).toBe('succeeded');
    });

    it('attaches, lists by customer and type, and detaches (clearing the default)', async () => {
      const { stripe } = kit.client();
      const customer = await stripe.customers.create({});
      const visa = await stripe.paymentMethods.attach('pm_card_visa', { customer: customer.id });
      await stripe.paymentMethods.attach('pm_card_mastercard', { customer: customer.id });
      const paypal = await stripe.paymentMethods.create({ type: 'paypal' });
      await stripe.paymentMethods.attach(paypal.id, { customer: customer.id });
      await stripe.customers.update(customer.id, { invoice_settings: { default_payment_method: visa.id } });

      const cards = await stripe.paymentMethods.list({ customer: customer.id, type: 'card' });
      expect(cards.data).toHaveLength(2);
      expectStripeListShape('PaymentMethod', cards);
      const viaCustomer = await stripe.customers.listPaymentMethods(customer.id, { type: 'paypal' });
      expect(viaCustomer.data.map((p) => p.id)).toEqual([paypal.id]);

      const detached = await stripe.paymentMethods.detach(visa.id);
      expect(detached.customer).toBeNull();
      const after = (await stripe.customers.retrieve(customer.id)) as Stripe.Customer;
      expect(after.invoice_settings.default_payment_method).toBeNull();
      await expect(stripe.paymentMethods.detach(visa.id)).rejects.toMatchObject({ statusCode: 400 });
    });

    it('refuses a default payment method that is not attached to the customer', async () => {
      const { stripe } = kit.client();
      const customer = await stripe.customers.create({});
      const pm = await stripe.paymentMethods.create(cardParams('4242424242424242'));
      await expect(
        stripe.customers.update(customer.id, { invoice_settings: { default_payment_method: pm.id } }),
      ).rejects.toMatchObject({ statusCode: 400, param: 'invoice_settings[default_payment_method]' });
    });

    it.each(DECLINES)(
      'declines %s at attach with decline_code %s',
      async (number, _shortcut, code, declineCode) => {
        const { stripe } = kit.client();
        const customer = await stripe.customers.create({});
        const pm = await stripe.paymentMethods.create(cardParams(number));
        const err = cardError(
          await stripe.paymentMethods.attach(pm.id, { customer: customer.id }).catch((e: unknown) => e),
        );
        expect(err).toMatchObject({ statusCode: 402, code, decline_code: declineCode });
      },
    );

    it('attaches the attach-then-fail card and then fails every charge', async () => {
      const { stripe } = kit.client();
      const customer = await stripe.customers.create({ payment_method: 'pm_card_chargeCustomerFail' });
      const pmId = (await stripe.paymentMethods.list({ customer: customer.id })).data[0]?.id ?? '';
      expect(pmId).toMatch(/^pm_/);
      const withoutDefault = (await stripe.customers.retrieve(customer.id)) as Stripe.Customer;
      expect(withoutDefault.invoice_settings.default_payment_method).toBeNull();
      const err = cardError(
        await stripe.paymentIntents
          .create({
            amount: 2000,
            currency: 'usd',
            customer: customer.id,
            payment_method: pmId,
            off_session: true,
            confirm: true,
          })
          .catch((e: unknown) => e),
      );
      expect(err).toMatchObject({ code: 'card_declined', decline_code: 'generic_decline' });
    });
  });

  describe('payment intents', () => {
    it('walks requires_payment_method -> requires_confirmation -> succeeded with a card charge', async () => {
      const { stripe } = kit.client();
      const customer = await stripe.customers.create({});
      const pi = await stripe.paymentIntents.create({
        amount: 1999,
        currency: 'usd',
        customer: customer.id,
        metadata: { order: '42' },
      });
      expect(pi.status).toBe('requires_payment_method');
      expect(pi.client_secret).toMatch(new RegExp(`^${pi.id}_secret_`));
      expectStripeShape('PaymentIntent', pi);
      const updated = await stripe.paymentIntents.update(pi.id, { payment_method: 'pm_card_visa' });
      expect(updated.status).toBe('requires_confirmation');
      const confirmed = await stripe.paymentIntents.confirm(pi.id, { expand: ['latest_charge'] });
      expect(confirmed.status).toBe('succeeded');
      expect(confirmed.amount_received).toBe(1999);
      const charge = confirmed.latest_charge as Stripe.Charge;
      expect(charge).toMatchObject({
        amount: 1999,
        paid: true,
        captured: true,
        status: 'succeeded',
        payment_intent: pi.id,
      });
      expect(charge.payment_method_details?.card).toMatchObject({
        brand: 'visa',
        last4: '4242',
        funding: 'credit',
      });
      expectStripeShape('Charge', charge);
      expectStripeShape('PaymentIntent', confirmed);

      const list = await stripe.paymentIntents.list({ customer: customer.id });
      expect(list.data.map((p) => p.id)).toEqual([pi.id]);
      const charges = await stripe.charges.list({ payment_intent: pi.id });
      expect(charges.data.map((c) => c.id)).toEqual([charge.id]);
      expectStripeListShape('Charge', charges);
      await expect(stripe.paymentIntents.confirm(pi.id)).rejects.toMatchObject({
        statusCode: 400,
        code: 'payment_intent_unexpected_state',
      });
    });

    it.each(DECLINES)(
      'declines %s at confirm (shortcut %s) with the right decline_code',
      async (_n, shortcut, code, declineCode) => {
        const { stripe } = kit.client();
        const err = cardError(
          await stripe.paymentIntents
            .create({ amount: 1000, currency: 'usd', payment_method: shortcut, confirm: true })
            .catch((e: unknown) => e),
        );
        expect(err).toMatchObject({ code, decline_code: declineCode });
        const pi = err.payment_intent as Stripe.PaymentIntent;
        expect(pi.status).toBe('requires_payment_method');
        expect(pi.last_payment_error).toMatchObject({ type: 'card_error', code, decline_code: declineCode });
        const charge = await stripe.charges.retrieve(pi.latest_charge as string);
        expect(charge).toMatchObject({ status: 'failed', failure_code: code, paid: false });
        expect(charge.outcome?.reason).toBe(declineCode);
      },
    );

    it('captures a manual-capture payment and cancels another', async () => {
      const { stripe } = kit.client();
      const pi = await stripe.paymentIntents.create({
        amount: 5000,
        currency: 'usd',
        payment_method: 'pm_card_visa',
        capture_method: 'manual',
        confirm: true,
      });
      expect(pi.status).toBe('requires_capture');
      expect(pi.amount_capturable).toBe(5000);
      const captured = await stripe.paymentIntents.capture(pi.id, { amount_to_capture: 4000 });
      expect(captured).toMatchObject({ status: 'succeeded', amount_received: 4000 });
      const charge = await stripe.charges.retrieve(captured.latest_charge as string);
      expect(charge).toMatchObject({ captured: true, amount_captured: 4000 });

      const other = await stripe.paymentIntents.create({ amount: 900, currency: 'usd' });
      const canceled = await stripe.paymentIntents.cancel(other.id, { cancellation_reason: 'abandoned' });
      expect(canceled).toMatchObject({ status: 'canceled', cancellation_reason: 'abandoned' });
      expect(canceled.canceled_at).toEqual(expect.any(Number));
    });

    it('completes a 3-D Secure challenge through the emulator page and redirects to return_url', async () => {
      const { stripe } = await withHooks();
      const customer = await stripe.customers.create({});
      const pi = await stripe.paymentIntents.create({
        amount: 3000,
        currency: 'usd',
        customer: customer.id,
        payment_method: 'pm_card_authenticationRequired',
        confirm: true,
        return_url: 'https://shop.example/return',
      });
      expect(pi.status).toBe('requires_action');
      expect(pi.next_action?.type).toBe('redirect_to_url');
      const challenge = pi.next_action?.redirect_to_url?.url ?? '';
      expect(challenge).toBe(`${kit.emulator.url}/_emulator/3ds/${pi.id}`);

      const page = await fetch(challenge);
      expect(await page.text()).toContain('3-D Secure');
      const done = await fetch(challenge, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'result=succeed',
        redirect: 'manual',
      });
      expect(done.status).toBe(303);
      const location = new URL(done.headers.get('location') ?? '');
      expect(location.origin + location.pathname).toBe('https://shop.example/return');
      expect(location.searchParams.get('payment_intent')).toBe(pi.id);
      expect(location.searchParams.get('redirect_status')).toBe('succeeded');

      const after = await stripe.paymentIntents.retrieve(pi.id, { expand: ['latest_charge'] });
      expect(after.status).toBe('succeeded');
      const charge = after.latest_charge as Stripe.Charge;
      expect(charge.payment_method_details?.card?.three_d_secure).toMatchObject({ result: 'authenticated' });
      const succeeded = await receiver.next(
        (h) => h.event.type === 'payment_intent.succeeded' && h.event.data.object.id === pi.id,
      );
      expect(succeeded.event.data.object.status).toBe('succeeded');
    });

    it('fails a 3-D Secure challenge back to requires_payment_method (use_stripe_sdk without return_url)', async () => {
      const { stripe } = await withHooks();
      const pi = await stripe.paymentIntents.create({
        amount: 3000,
        currency: 'usd',
        payment_method: 'pm_card_authenticationRequired',
        confirm: true,
      });
      expect(pi.next_action?.type).toBe('use_stripe_sdk');
      const res = await fetch(`${kit.emulator.url}/_emulator/3ds/${pi.id}?result=fail`, { method: 'POST' });
      expect(res.status).toBe(200);
      const after = await stripe.paymentIntents.retrieve(pi.id);
      expect(after.status).toBe('requires_payment_method');
      expect(after.last_payment_error?.code).toBe('payment_intent_authentication_failure');
      const failed = await receiver.next(
        (h) => h.event.type === 'payment_intent.payment_failed' && h.event.data.object.id === pi.id,
      );
      expect(failed.event.data.object.status).toBe('requires_payment_method');
      // A new method can be tried on the same intent.
      const retried = await stripe.paymentIntents.confirm(pi.id, { payment_method: 'pm_card_visa' });
      expect(retried.status).toBe('succeeded');
    });

    it('declines an off-session payment that needs authentication with authentication_required', async () => {
      const { stripe } = kit.client();
      const customer = await stripe.customers.create({ payment_method: 'pm_card_authenticationRequired' });
      const pm = (await stripe.paymentMethods.list({ customer: customer.id })).data[0]?.id ?? '';
      const err = cardError(
        await stripe.paymentIntents
          .create({
            amount: 1500,
            currency: 'usd',
            customer: customer.id,
            payment_method: pm,
            off_session: true,
            confirm: true,
          })
          .catch((e: unknown) => e),
      );
      expect(err).toMatchObject({ code: 'authentication_required', decline_code: 'authentication_required' });
    });

    it('charges through createAndConfirmPaymentIntent for invoices: succeeded, requires_action, declined', async () => {
      const { stripe, key } = kit.client();
      const account = kit.emulator.state.account(key);
      const customer = await stripe.customers.create({});
      const ok = createAndConfirmPaymentIntent(account, {
        amount: 1200,
        currency: 'usd',
        customer: customer.id,
        payment_method: 'pm_card_visa',
        off_session: true,
        invoiceId: 'in_test',
      });
      expect(ok.status).toBe('succeeded');
      const action = createAndConfirmPaymentIntent(account, {
        amount: 1200,
        currency: 'usd',
        customer: customer.id,
        payment_method: 'pm_card_authenticationRequired',
        off_session: true,
        invoiceId: 'in_test',
      });
      expect(action.status).toBe('requires_action');
      const declined = createAndConfirmPaymentIntent(account, {
        amount: 1200,
        currency: 'usd',
        customer: customer.id,
        payment_method: 'pm_card_chargeCustomerFail',
        off_session: true,
        invoiceId: 'in_test',
      });
      expect(declined.status).toBe('requires_payment_method');
      expect(declined.last_payment_error).toMatchObject({
        code: 'card_declined',
        decline_code: 'generic_decline',
      });
      const events = await stripe.events.list({ type: 'payment_intent.payment_failed' });
      expect(events.data.map((e) => (e.data.object as Stripe.PaymentIntent).id)).toContain(declined.id);
    });

    it('approves a PayPal payment through the redirect page: processing, then succeeded', async () => {
      const { stripe } = await withHooks();
      const pm = await stripe.paymentMethods.create({ type: 'paypal' });
      const pi = await stripe.paymentIntents.create({
        amount: 2500,
        currency: 'eur',
        payment_method: pm.id,
        allowed_payment_method_types: ['paypal'],
        confirm: true,
        return_url: 'https://shop.example/paypal',
      });
      expect(pi.status).toBe('requires_action');
      expect(pi.allowed_payment_method_types).toEqual(['paypal']);
      await expect(
        stripe.paymentIntents.confirm(pi.id, { payment_method: 'pm_card_visa' }),
      ).rejects.toMatchObject({
        statusCode: 400,
        param: 'payment_method',
      });
      const url = pi.next_action?.redirect_to_url?.url ?? '';
      expect(await (await fetch(url)).text()).toContain('PayPal');
      const approved = await fetch(url, {
        method: 'POST',
        body: new URLSearchParams({ result: 'succeed' }),
        redirect: 'manual',
      });
      expect(approved.status).toBe(303);
      const processing = await receiver.next(
        (h) => h.event.type === 'payment_intent.processing' && h.event.data.object.id === pi.id,
      );
      expect(processing.event.data.object.status).toBe('processing');
      await receiver.next(
        (h) => h.event.type === 'payment_intent.succeeded' && h.event.data.object.id === pi.id,
      );
      const after = await stripe.paymentIntents.retrieve(pi.id, {
        expand: ['latest_charge', 'payment_method'],
      });
      expect(after.status).toBe('succeeded');
      expect((after.latest_charge as Stripe.Charge).payment_method_details?.type).toBe('paypal');
      expect((after.payment_method as Stripe.PaymentMethod).paypal?.payer_email).toBe('buyer@example.com');
    });
  });

  describe('setup intents', () => {
    it('sets up the setup-3DS card after a challenge; later off-session payments need no authentication', async () => {
      const { stripe } = kit.client();
      const customer = await stripe.customers.create({});
      const si = await stripe.setupIntents.create({
        customer: customer.id,
        payment_method: 'pm_card_authenticationRequiredOnSetup',
        confirm: true,
        return_url: 'https://shop.example/setup',
      });
      expect(si.status).toBe('requires_action');
      expect(si.next_action?.redirect_to_url?.url).toContain(`/_emulator/3ds/${si.id}`);
      expectStripeShape('SetupIntent', si);
      const res = await fetch(`${kit.emulator.url}/_emulator/3ds/${si.id}?result=succeed`, {
        redirect: 'manual',
      });
      expect(res.status).toBe(303);
      const done = await stripe.setupIntents.retrieve(si.id);
      expect(done.status).toBe('succeeded');
      const pm = await stripe.paymentMethods.retrieve(done.payment_method as string);
      expect(pm.customer).toBe(customer.id);
      const pi = await stripe.paymentIntents.create({
        amount: 4200,
        currency: 'usd',
        customer: customer.id,
        payment_method: pm.id,
        off_session: true,
        confirm: true,
      });
      expect(pi.status).toBe('succeeded');
    });

    it('fails setup with a decline card (card error carries the setup intent) and can be canceled', async () => {
      const { stripe } = kit.client();
      const customer = await stripe.customers.create({});
      const si = await stripe.setupIntents.create({ customer: customer.id });
      expect(si.status).toBe('requires_payment_method');
      const err = cardError(
        await stripe.setupIntents
          .confirm(si.id, { payment_method: 'pm_card_visa_chargeDeclinedInsufficientFunds' })
          .catch((e: unknown) => e),
      );
      expect(err).toMatchObject({ decline_code: 'insufficient_funds' });
      expect((err.setup_intent as Stripe.SetupIntent).status).toBe('requires_payment_method');
      const ok = await stripe.setupIntents.confirm(si.id, { payment_method: 'pm_card_visa' });
      expect(ok.status).toBe('succeeded');
      const other = await stripe.setupIntents.create({ customer: customer.id });
      const canceled = await stripe.setupIntents.cancel(other.id);
      expect(canceled.status).toBe('canceled');
    });
  });

  describe('refunds', () => {
    async function paid(stripe: Stripe, pm = 'pm_card_visa', amount = 1000): Promise<Stripe.PaymentIntent> {
      return stripe.paymentIntents.create({ amount, currency: 'usd', payment_method: pm, confirm: true });
    }

    it('refunds partially then fully: pending, then succeeded asynchronously, with events', async () => {
      const { stripe } = await withHooks();
      const pi = await paid(stripe);
      const partial = await stripe.refunds.create({
        payment_intent: pi.id,
        amount: 300,
        reason: 'requested_by_customer',
        metadata: { ticket: 'T-1' },
      });
      expect(partial).toMatchObject({
        status: 'pending',
        amount: 300,
        reason: 'requested_by_customer',
        metadata: { ticket: 'T-1' },
      });
      expectStripeShape('Refund', partial);
      let charge = await stripe.charges.retrieve(pi.latest_charge as string);
      expect(charge).toMatchObject({ amount_refunded: 300, refunded: false });

      const settled = await receiver.next(
        (h) => h.event.type === 'refund.updated' && h.event.data.object.id === partial.id,
      );
      expect(settled.event.data.object.status).toBe('succeeded');
      await receiver.next((h) => h.event.type === 'charge.refunded' && h.event.data.object.id === charge.id);

      const full = await stripe.refunds.create({ charge: charge.id });
      expect(full.amount).toBe(700);
      charge = await stripe.charges.retrieve(charge.id);
      expect(charge).toMatchObject({ amount_refunded: 1000, refunded: true });
      await expect(stripe.refunds.create({ charge: charge.id, amount: 1 })).rejects.toMatchObject({
        statusCode: 400,
        code: 'charge_already_refunded',
      });
      const list = await stripe.refunds.list({ charge: charge.id });
      expect(list.data.map((r) => r.id)).toEqual([full.id, partial.id]);
      expectStripeListShape('Refund', list);
    });

    it('refuses more than the unrefunded amount, also for two concurrent refunds', async () => {
      const { stripe } = kit.client();
      const pi = await paid(stripe, 'pm_card_visa', 1000);
      await expect(stripe.refunds.create({ payment_intent: pi.id, amount: 1001 })).rejects.toMatchObject({
        code: 'amount_too_large',
        param: 'amount',
      });
      const results = await Promise.allSettled([
        stripe.refunds.create({ payment_intent: pi.id, amount: 600 }),
        stripe.refunds.create({ payment_intent: pi.id, amount: 600 }),
      ]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      expect(results.filter((r) => r.status === 'rejected')).toHaveLength(1);
    });

    it('fails a refund on the refund-failure card and restores the charge', async () => {
      const { stripe } = await withHooks();
      const pi = await paid(stripe, 'pm_card_refundFail');
      const refund = await stripe.refunds.create({ payment_intent: pi.id });
      expect(refund.status).toBe('pending');
      const failed = await receiver.next(
        (h) => h.event.type === 'refund.failed' && h.event.data.object.id === refund.id,
      );
      expect(failed.event.data.object).toMatchObject({
        status: 'failed',
        failure_reason: 'expired_or_canceled_card',
      });
      const charge = await stripe.charges.retrieve(pi.latest_charge as string);
      expect(charge).toMatchObject({ amount_refunded: 0, refunded: false });
    });

    it('cancels a pending refund', async () => {
      const own = await startTestEmulator({ settings: { refundSettleMs: 60_000 } });
      try {
        const { stripe } = own.client();
        const pi = await paid(stripe);
        const refund = await stripe.refunds.create({ payment_intent: pi.id, amount: 400 });
        const canceled = await stripe.refunds.cancel(refund.id);
        expect(canceled.status).toBe('canceled');
        const charge = await stripe.charges.retrieve(pi.latest_charge as string);
        expect(charge.amount_refunded).toBe(0);
        await expect(stripe.refunds.cancel(refund.id)).rejects.toMatchObject({ statusCode: 400 });
      } finally {
        await own.close();
      }
    });
  });

  describe('schema fidelity against the 2024-04-10 OpenAPI spec', () => {
    it('customer, payment_method, setup_intent and refund match', async () => {
      const { stripe } = kit.client();
      const customer = await stripe.customers.create({ email: 'o@example.com' });
      expectOpenApi2024Shape('customer', customer);
      const pm = await stripe.paymentMethods.attach('pm_card_visa', { customer: customer.id });
      expectOpenApi2024Shape('payment_method', pm);
      const si = await stripe.setupIntents.create({
        customer: customer.id,
        payment_method: pm.id,
        confirm: true,
      });
      expectOpenApi2024Shape('setup_intent', si);
      const pi = await stripe.paymentIntents.create({
        amount: 900,
        currency: 'usd',
        customer: customer.id,
        payment_method: pm.id,
        confirm: true,
      });
      expectOpenApi2024Shape('refund', await stripe.refunds.create({ payment_intent: pi.id }));
    });
  });
});
