import { Injectable } from '@nestjs/common';
import type Stripe from 'stripe';
import { AccountsFacade } from '../../accounts/accounts.facade.js';
import { PaymentsFacade } from '../../payments/payments.facade.js';
import {
  HandlesStripeEvents,
  type StripeEventContext,
  type StripeEventOutcome,
  type StripeEventPayload,
} from '../../webhooks/contracts/stripe-event-handler.js';
import { SubscriptionMirror } from '../machine/subscription-mirror.js';
import { markCheckoutComplete } from '../persistence/subscription-checkouts.js';
import { transformStripeSubscription } from '../stripe/transform-stripe-subscription.js';
import { transformStripeCheckoutSession } from './transform-stripe-checkout-session.js';

/**
 * Stripe's subscription and checkout events, applied by the subscription mirror (the machine owns the
 * state; see SubscriptionMirror) with the Stripe event as actor. The Checkout success callback and the
 * `checkout.session.completed` webhook converge on one row (upsert by Stripe id, R-SUB-2).
 */
@Injectable()
export class SubscriptionEventsHandler {
  constructor(
    private readonly mirror: SubscriptionMirror,
    private readonly payments: PaymentsFacade,
    private readonly accounts: AccountsFacade,
  ) {}

  @HandlesStripeEvents(
    'customer.subscription.created',
    'customer.subscription.updated',
    'customer.subscription.deleted',
    'customer.subscription.trial_will_end',
    'customer.subscription.paused',
    'customer.subscription.resumed',
    'customer.subscription.pending_update_applied',
    'customer.subscription.pending_update_expired',
  )
  async onSubscription(event: StripeEventPayload, ctx: StripeEventContext): Promise<StripeEventOutcome> {
    const values = transformStripeSubscription(event.data.object as Stripe.Subscription);
    return this.mirror.apply(values, ctx);
  }

  /**
   * Subscription mode: the subscription is re-read and upserted under the session's account. Payment
   * mode: the payment is filed under the session's account. Setup mode changes nothing here.
   */
  @HandlesStripeEvents('checkout.session.completed', 'checkout.session.async_payment_succeeded')
  async onCheckoutCompleted(event: StripeEventPayload, ctx: StripeEventContext): Promise<StripeEventOutcome> {
    const session = transformStripeCheckoutSession(event.data.object as Stripe.Checkout.Session);
    if (!session.complete) return 'ignored';
    const accountId = (await this.accounts.accountExists(ctx.manager, session.accountId))
      ? session.accountId
      : null;
    if (session.mode === 'subscription' && session.stripeSubscriptionId) {
      const outcome = await this.mirror.applyFresh(session.stripeSubscriptionId, ctx, { accountId });
      await markCheckoutComplete(ctx.manager, session.checkoutSessionId, session.stripeSubscriptionId);
      return outcome;
    }
    if (session.mode === 'payment' && session.stripePaymentIntentId && accountId) {
      return this.payments.mirrorCheckoutPayment(
        session.stripePaymentIntentId,
        { accountId, checkoutSessionId: session.checkoutSessionId },
        ctx,
      );
    }
    return 'ignored';
  }
}
