import { describe, expect, it } from '@jest/globals';
import type Stripe from 'stripe';
import { loadStripeEvents, objectOf } from '../../../../test-support/stripe-fixtures.js';
import { PermanentEventError } from '../../webhooks/contracts/stripe-event-handler.js';
import { transformStripeCheckoutSession } from './transform-stripe-checkout-session.js';

/** Events the emulator delivered (API 2026-10-28.endive), captured as fixtures beside this spec. */
const events = loadStripeEvents(new URL('./fixtures/stripe-events.json', import.meta.url));

describe('transformStripeCheckoutSession', () => {
  it('reads a completed subscription-mode session with its account reference', () => {
    const session = objectOf<Stripe.Checkout.Session>(events.checkout_subscription);
    expect(transformStripeCheckoutSession(session)).toEqual({
      checkoutSessionId: session.id,
      mode: 'subscription',
      accountId: '11111111-1111-1111-1111-111111111111',
      stripeCustomerId: session.customer,
      stripeSubscriptionId: session.subscription,
      stripePaymentIntentId: null,
      complete: true,
    });
  });

  it('reads a payment-mode session and falls back to metadata.account_id', () => {
    const session = {
      ...objectOf<Stripe.Checkout.Session>(events.checkout_payment),
      client_reference_id: 'order-77',
      metadata: { account_id: '22222222-2222-4222-8222-222222222222' },
    };
    expect(transformStripeCheckoutSession(session)).toMatchObject({
      mode: 'payment',
      accountId: '22222222-2222-4222-8222-222222222222',
      stripeSubscriptionId: null,
      stripePaymentIntentId: expect.stringMatching(/^pi_/),
    });
  });

  it('refuses an unknown mode permanently', () => {
    const session = objectOf<Stripe.Checkout.Session>(events.checkout_payment);
    expect(() => transformStripeCheckoutSession({ ...session, mode: 'barter' })).toThrow(PermanentEventError);
  });
});
