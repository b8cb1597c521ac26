import { describe, expect, it } from '@jest/globals';
import type Stripe from 'stripe';
import { loadStripeEvents, objectOf } from '../../../../test-support/stripe-fixtures.js';
import { PermanentEventError } from '../../webhooks/contracts/stripe-event-handler.js';
import { paymentInputForStatus, transformStripePaymentIntent } from './transform-stripe-payment-intent.js';

/** Events the emulator delivered (API 2026-10-28.endive), captured as fixtures beside this spec. */
const events = loadStripeEvents(new URL('./fixtures/stripe-events.json', import.meta.url));

describe('transformStripePaymentIntent', () => {
  it('maps a succeeded PaymentIntent with description, order reference and metadata', () => {
    const pi = objectOf<Stripe.PaymentIntent>(events.pi_succeeded);
    const values = transformStripePaymentIntent(pi);
    expect(values).toMatchObject({
      stripePaymentIntentId: pi.id,
      stripeCustomerId: pi.customer,
      amount: 5000,
      amountReceived: 5000,
      currency: 'usd',
      status: 'succeeded',
      description: 'Order 42',
      orderReference: 'ord_42',
      metadata: { payment_id: 'x' },
      stripePaymentMethodId: pi.payment_method,
      latestChargeId: pi.latest_charge,
      failureCode: null,
      declineCode: null,
    });
    // `payment_id` is ours only when it is one of our ids (a uuid).
    expect(values.appPaymentId).toBeNull();
    expect(values.stripeCreatedAt?.getTime()).toBe(pi.created * 1000);
  });

  it('reads our payment id and account id from metadata', () => {
    const pi = objectOf<Stripe.PaymentIntent>(events.pi_succeeded);
    pi.metadata = {
      payment_id: '0B7C4D3E-1111-4222-8333-444455556666',
      account_id: '11111111-1111-1111-1111-111111111111',
    };
    const values = transformStripePaymentIntent(pi);
    expect(values.appPaymentId).toBe('0b7c4d3e-1111-4222-8333-444455556666');
    expect(values.metadataAccountId).toBe('11111111-1111-1111-1111-111111111111');
    // Read into their fields, they are not the payment's own metadata.
    expect(values.metadata).toEqual({});
    expect(values.orderReference).toBeNull();
  });

  it('maps a declined attempt to failed with its codes and the card from last_payment_error', () => {
    const pi = objectOf<Stripe.PaymentIntent>(events.pi_failed);
    const values = transformStripePaymentIntent(pi);
    expect(values).toMatchObject({
      status: 'failed',
      amount: 700,
      amountReceived: 0,
      failureCode: 'card_declined',
      declineCode: 'insufficient_funds',
      failureMessage: 'Your card has insufficient funds.',
      paymentMethod: {
        type: 'card',
        cardBrand: 'visa',
        cardLast4: '9995',
        cardExpMonth: 11,
        cardExpYear: 2029,
        cardFunding: 'credit',
      },
    });
    expect(values.stripePaymentMethodId).toMatch(/^pm_/);
  });

  it('maps requires_action, canceled and a fresh intent', () => {
    expect(transformStripePaymentIntent(objectOf(events.pi_requires_action)).status).toBe('requires_action');
    expect(transformStripePaymentIntent(objectOf(events.pi_canceled)).status).toBe('canceled');
    const created = objectOf<Stripe.PaymentIntent>(events.pi_created);
    expect(transformStripePaymentIntent(created).status).toBe(
      created.status === 'succeeded' ? 'succeeded' : 'pending',
    );
    const processing = { ...created, status: 'processing' } as Stripe.PaymentIntent;
    expect(transformStripePaymentIntent(processing).status).toBe('processing');
    const capture = { ...created, status: 'requires_capture' } as Stripe.PaymentIntent;
    expect(transformStripePaymentIntent(capture).status).toBe('processing');
  });

  it('keeps JPY amounts in minor units as they are (no exponent arithmetic)', () => {
    const pi = {
      ...objectOf<Stripe.PaymentIntent>(events.pi_succeeded),
      amount: 1234,
      amount_received: 1234,
      currency: 'JPY',
    };
    expect(transformStripePaymentIntent(pi)).toMatchObject({
      amount: 1234,
      currency: 'jpy',
    });
  });

  it('refuses malformed payloads permanently', () => {
    const base = objectOf<Stripe.PaymentIntent>(events.pi_succeeded);
    expect(() => transformStripePaymentIntent({ ...base, amount: 12.5 })).toThrow(PermanentEventError);
    expect(() => transformStripePaymentIntent({ ...base, status: 'exploded' })).toThrow(
      /unknown PaymentIntent status/,
    );
    expect(() => transformStripePaymentIntent({ ...base, currency: 'dollars' })).toThrow(PermanentEventError);
  });
});

describe('paymentInputForStatus', () => {
  it('gives the machine input for each status Stripe can report', () => {
    expect(paymentInputForStatus('succeeded', null)).toEqual({ type: 'succeeded' });
    expect(paymentInputForStatus('failed', 'insufficient_funds')).toEqual({
      type: 'declined',
      declineCode: 'insufficient_funds',
    });
    expect(paymentInputForStatus('failed', null)).toEqual({ type: 'declined' });
    expect(paymentInputForStatus('requires_action', null)).toEqual({ type: 'action_required' });
    expect(paymentInputForStatus('processing', null)).toEqual({ type: 'processing_started' });
    expect(paymentInputForStatus('canceled', null)).toEqual({ type: 'canceled' });
    expect(paymentInputForStatus('unknown', null)).toEqual({ type: 'outcome_unknown' });
    expect(paymentInputForStatus('pending', null)).toBeNull();
    expect(paymentInputForStatus('refunded', null)).toBeNull();
  });
});
