import { describe, expect, it } from '@jest/globals';
import type Stripe from 'stripe';
import { loadStripeEvents, objectOf } from '../../../../test-support/stripe-fixtures.js';
import { PermanentEventError } from '../../webhooks/contracts/stripe-event-handler.js';
import { transformStripeRefund } from './transform-stripe-refund.js';

/** Events the emulator delivered (API 2026-10-28.endive), captured as fixtures beside this spec. */
const events = loadStripeEvents(new URL('./fixtures/stripe-events.json', import.meta.url));

describe('transformStripeRefund', () => {
  it('maps a pending refund made against a PaymentIntent', () => {
    const refund = objectOf<Stripe.Refund>(events.refund_created);
    expect(transformStripeRefund(refund)).toEqual({
      stripeRefundId: refund.id,
      stripePaymentIntentId: refund.payment_intent,
      stripeChargeId: refund.charge,
      amount: 1000,
      currency: 'usd',
      status: refund.status,
      reason: 'requested_by_customer',
      failureReason: null,
      appRefundId: null,
      stripeCreatedAt: new Date(refund.created * 1000),
      // A webhook names the balance transaction by id; its fee and net are read by the mirror.
      balanceTransactionId: refund.balance_transaction,
      balance: null,
    });
  });

  it('maps the settled refund of refund.updated', () => {
    expect(transformStripeRefund(objectOf(events.refund_updated)).status).toBe('succeeded');
  });

  it('carries the failure reason and our refund id from metadata', () => {
    const refund = {
      ...objectOf<Stripe.Refund>(events.refund_updated),
      status: 'failed',
      failure_reason: 'expired_or_canceled_card',
      metadata: { refund_id: '7d9b0c1a-2b3c-4d5e-8f90-a1b2c3d4e5f6' },
    } as Stripe.Refund;
    expect(transformStripeRefund(refund)).toMatchObject({
      status: 'failed',
      failureReason: 'expired_or_canceled_card',
      appRefundId: '7d9b0c1a-2b3c-4d5e-8f90-a1b2c3d4e5f6',
    });
  });

  it('refuses unknown statuses and non-integer amounts permanently', () => {
    const refund = objectOf<Stripe.Refund>(events.refund_created);
    expect(() => transformStripeRefund({ ...refund, status: 'lost' })).toThrow(PermanentEventError);
    expect(() => transformStripeRefund({ ...refund, amount: 10.5 })).toThrow(/positive integer amount/);
    expect(() => transformStripeRefund({ ...refund, amount: 0 })).toThrow(PermanentEventError);
  });
});
