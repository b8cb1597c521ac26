import { describe, expect, it } from '@jest/globals';
import type Stripe from 'stripe';
import { loadEvents, objectOf } from './fixtures/load.js';
import { transformStripePaymentMethod } from './transform-stripe-payment-method.js';

const events = loadEvents(import.meta.url);

describe('transformStripePaymentMethod', () => {
  it('reads brand, last 4, expiry and funding of an attached card', () => {
    const pm = objectOf<Stripe.PaymentMethod>(events.pm_attached);
    expect(transformStripePaymentMethod(pm)).toEqual({
      stripePaymentMethodId: pm.id,
      stripeCustomerId: pm.customer,
      previousCustomerId: null,
      type: 'card',
      cardBrand: 'visa',
      cardLast4: '4242',
      cardExpMonth: pm.card?.exp_month,
      cardExpYear: pm.card?.exp_year,
      cardFunding: 'credit',
    });
  });

  it('takes the former customer of a detached method from previous_attributes', () => {
    const event = events.pm_detached!;
    const pm = objectOf<Stripe.PaymentMethod>(event);
    const previous = (event.data as { previous_attributes?: Record<string, unknown> }).previous_attributes;
    const values = transformStripePaymentMethod(pm, previous);
    expect(values.stripeCustomerId).toBeNull();
    expect(values.previousCustomerId).toMatch(/^cus_/);
  });

  it('has no card fields for a PayPal method', () => {
    const pm = { ...objectOf<Stripe.PaymentMethod>(events.pm_attached), type: 'paypal', card: undefined };
    expect(transformStripePaymentMethod(pm as Stripe.PaymentMethod)).toMatchObject({
      type: 'paypal',
      cardBrand: null,
      cardLast4: null,
    });
  });
});
