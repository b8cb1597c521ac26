import { Injectable } from '@nestjs/common';
import type Stripe from 'stripe';
import type { EntityManager } from 'typeorm';
import { AccountsFacade } from '../../accounts/accounts.facade.js';
import { PaymentsFacade } from '../../payments/payments.facade.js';
import {
  HandlesStripeEvents,
  LocksStripeEventBatches,
  ReadsStripeEventsAhead,
  type StripeEventContext,
  type StripeEventReadAheadContext,
  type StripeEventOutcome,
  type StripeEventPayload,
} from '../../webhooks/contracts/stripe-event-handler.js';
import { SubscriptionMirror } from '../machine/subscription-mirror.js';
import { markCheckoutComplete } from '../persistence/subscription-checkouts.js';
import {
  transformStripeSubscription,
  type SubscriptionValues,
} from '../stripe/transform-stripe-subscription.js';
import { SubscriptionOrmEntity } from '../persistence/subscription.orm-entity.js';
import { DomainEvents } from '../../../platform/events/domain-events.js';
import { domainEvent } from '../../../platform/events/domain-event.js';
import '../contracts/subscription.events.js';
import { transformStripeCheckoutSession } from './transform-stripe-checkout-session.js';

const SUBSCRIPTION_EVENTS = [
  'customer.subscription.created',
  'customer.subscription.updated',
  'customer.subscription.deleted',
  'customer.subscription.trial_will_end',
  'customer.subscription.paused',
  'customer.subscription.resumed',
  'customer.subscription.pending_update_applied',
  'customer.subscription.pending_update_expired',
];

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
    private readonly events: DomainEvents,
  ) {}

  @HandlesStripeEvents(...SUBSCRIPTION_EVENTS)
  async onSubscription(event: StripeEventPayload, ctx: StripeEventContext): Promise<StripeEventOutcome> {
    const values = transformStripeSubscription(event.data.object as Stripe.Subscription);
    const outcome = await this.mirror.apply(values, ctx, {
      ahead: ctx.ahead,
      readsAheadAgain: ctx.readsAheadAgain === true,
    });
    if (event.type === 'customer.subscription.trial_will_end') await this.announceTrialEnding(values, ctx);
    return outcome;
  }

  /** A webhook batch's subscription rows, locked and read in one statement before its handlers run. */
  @LocksStripeEventBatches(...SUBSCRIPTION_EVENTS)
  async lockBatch(events: StripeEventPayload[], manager: EntityManager): Promise<void> {
    const ids = events.map((event) => (event.data.object as { id: string }).id);
    await this.mirror.lockBatch(ids, manager);
  }

  /**
   * An event the ordering rule cannot place against the row as committed is re-read from Stripe before
   * the batch's transaction: the mirror then holds the subscription's row lock for no Stripe call
   * (SubscriptionMirror.readAhead).
   */
  @ReadsStripeEventsAhead(...SUBSCRIPTION_EVENTS)
  readAhead(events: StripeEventPayload[], ctx: StripeEventReadAheadContext): Promise<Map<string, unknown>> {
    const reports = events.map((event) => ({
      values: transformStripeSubscription(event.data.object as Stripe.Subscription),
      created: event.created,
    }));
    return this.mirror.readAhead(reports, ctx);
  }

  /** Publishes `subscription.trial_will_end` for the mirrored subscription while it is trialing. */
  private async announceTrialEnding(values: SubscriptionValues, ctx: StripeEventContext): Promise<void> {
    const row = await ctx.manager.getRepository(SubscriptionOrmEntity).findOne({
      where: { stripeSubscriptionId: values.stripeSubscriptionId },
    });
    if (!row || row.state !== 'trialing' || !row.trialEnd) return;
    await this.events.publish(ctx.manager, [
      domainEvent('subscription.trial_will_end', {
        subscriptionId: row.id,
        accountId: row.accountId,
        stripeSubscriptionId: row.stripeSubscriptionId,
        trialEnd: row.trialEnd.toISOString(),
        planId: row.planId,
        occurredAt: new Date(ctx.event.created * 1000).toISOString(),
      }),
    ]);
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
