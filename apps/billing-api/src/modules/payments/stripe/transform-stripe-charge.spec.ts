import { describe, expect, it } from '@jest/globals';
import type Stripe from 'stripe';
import { loadStripeEvents, objectOf } from '../../../../test-support/stripe-fixtures.js';
import { transformStripeCharge } from './transform-stripe-charge.js';

/** Events the emulator delivered (API 2026-10-28.endive), captured as fixtures beside this spec. */
const events = loadStripeEvents(new URL('./fixtures/stripe-events.json', import.meta.url));

describe('transformStripeCharge', () => {
  it('takes the card summary from payment_method_details', () => {
    const charge = objectOf<Stripe.Charge>(events.charge_succeeded);
    expect(transformStripeCharge(charge)).toMatchObject({
      stripeChargeId: charge.id,
      stripePaymentIntentId: charge.payment_intent,
      status: 'succeeded',
      paymentMethod: { type: 'card', cardBrand: 'visa', cardLast4: '4242', cardFunding: 'credit' },
      amountRefunded: 0,
      refunds: [],
    });
  });

  it('carries the failure of a failed charge', () => {
    const values = transformStripeCharge(objectOf(events.charge_failed));
    expect(values.status).toBe('failed');
    expect(values.failureCode).toBe('card_declined');
    expect(values.paymentMethod?.cardLast4).toBe('9995');
  });
});
