import { Injectable } from '@nestjs/common';
import type Stripe from 'stripe';
import {
  ChecksStripeEventsUnchanged,
  HandlesStripeEvents,
  ReadsStripeEventsAhead,
  type StripeEventContext,
  type StripeEventOutcome,
  type StripeEventPayload,
  type StripeEventReadAheadContext,
  type StripeEventReadContext,
} from '../../webhooks/contracts/stripe-event-handler.js';
import { PaymentMirror } from './payment-mirror.js';
import { transformStripeCharge } from '../stripe/transform-stripe-charge.js';
import { transformStripePaymentIntent } from '../stripe/transform-stripe-payment-intent.js';

const PAYMENT_INTENT_EVENTS = [
  'payment_intent.created',
  'payment_intent.succeeded',
  'payment_intent.payment_failed',
  'payment_intent.canceled',
  'payment_intent.requires_action',
  'payment_intent.processing',
  'payment_intent.amount_capturable_updated',
];

/**
 * Mirrors PaymentIntents and their charges into `payments` (R-PAY-1, R-PAY-6, R-WH-6); a PaymentIntent
 * that pays an invoice is the invoice's and is ignored (PaymentMirror).
 */
@Injectable()
export class PaymentEventsHandler {
  constructor(private readonly mirror: PaymentMirror) {}

  @HandlesStripeEvents(...PAYMENT_INTENT_EVENTS)
  async onPaymentIntent(event: StripeEventPayload, ctx: StripeEventContext): Promise<StripeEventOutcome> {
    const pi = event.data.object as Stripe.PaymentIntent;
    return this.mirror.applyPaymentIntent(transformStripePaymentIntent(pi), ctx);
  }

  /**
   * Most PaymentIntent events of API payments confirm what the API already wrote from Stripe's answer:
   * they are marked without the mirror's transaction and row lock.
   */
  @ChecksStripeEventsUnchanged(...PAYMENT_INTENT_EVENTS)
  unchangedPaymentIntent(
    event: StripeEventPayload,
    ctx: StripeEventReadContext,
  ): Promise<StripeEventOutcome | null> {
    const pi = event.data.object as Stripe.PaymentIntent;
    return this.mirror.unchangedByPaymentIntent(transformStripePaymentIntent(pi), ctx);
  }

  /** Whether the batch's new PaymentIntents pay invoices, asked before its transaction (PaymentMirror.readAhead). */
  @ReadsStripeEventsAhead(...PAYMENT_INTENT_EVENTS)
  readAhead(events: StripeEventPayload[], ctx: StripeEventReadAheadContext): Promise<Map<string, unknown>> {
    return this.mirror.readAhead(
      events.map((event) => transformStripePaymentIntent(event.data.object as Stripe.PaymentIntent)),
      ctx,
    );
  }

  @HandlesStripeEvents('charge.succeeded', 'charge.failed')
  async onCharge(event: StripeEventPayload, ctx: StripeEventContext): Promise<StripeEventOutcome> {
    const charge = event.data.object as Stripe.Charge;
    return this.mirror.applyCharge(transformStripeCharge(charge), ctx);
  }
}
