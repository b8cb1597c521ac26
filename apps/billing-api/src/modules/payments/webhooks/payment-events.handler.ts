import { Injectable } from '@nestjs/common';
import type Stripe from 'stripe';
import {
  HandlesStripeEvents,
  type StripeEventContext,
  type StripeEventOutcome,
  type StripeEventPayload,
} from '../../webhooks/contracts/stripe-event-handler.js';
import { PaymentMirror } from './payment-mirror.js';
import { transformStripeCharge } from './transform-stripe-charge.js';
import { transformStripePaymentIntent } from './transform-stripe-payment-intent.js';

/** Mirrors PaymentIntents and their charges into `payments` (R-PAY-1, R-PAY-6, R-WH-6). */
@Injectable()
export class PaymentEventsHandler {
  constructor(private readonly mirror: PaymentMirror) {}

  @HandlesStripeEvents(
    'payment_intent.created',
    'payment_intent.succeeded',
    'payment_intent.payment_failed',
    'payment_intent.canceled',
    'payment_intent.requires_action',
    'payment_intent.processing',
    'payment_intent.amount_capturable_updated',
  )
  async onPaymentIntent(event: StripeEventPayload, ctx: StripeEventContext): Promise<StripeEventOutcome> {
    const pi = event.data.object as Stripe.PaymentIntent;
    return this.mirror.applyPaymentIntent(transformStripePaymentIntent(pi), ctx);
  }

  @HandlesStripeEvents('charge.succeeded', 'charge.failed')
  async onCharge(event: StripeEventPayload, ctx: StripeEventContext): Promise<StripeEventOutcome> {
    const charge = event.data.object as Stripe.Charge;
    return this.mirror.applyCharge(transformStripeCharge(charge), ctx);
  }
}
