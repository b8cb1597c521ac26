import { describe, expect, it } from '@jest/globals';
import type Stripe from 'stripe';
import { loadStripeEvents, objectOf } from '../../../../test-support/stripe-fixtures.js';
import { transformStripePaymentMethod } from './transform-stripe-payment-method.js';

/** Events the emulator delivered (API 2026-10-28.endive), captured as fixtures beside this spec. */
const events = loadStripeEvents(new URL('./fixtures/stripe-events.json', import.meta.url));

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
