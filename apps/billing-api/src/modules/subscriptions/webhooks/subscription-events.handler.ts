import { decideStaleness } from '@billing/domain';
import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type Stripe from 'stripe';
import { Clock } from '../../../platform/clock/clock.js';
import { AuditFacade } from '../../audit/audit.facade.js';
import { AccountsFacade } from '../../accounts/accounts.facade.js';
import { PaymentsFacade } from '../../payments/payments.facade.js';
import {
  HandlesStripeEvents,
  type StripeEventContext,
  type StripeEventOutcome,
  type StripeEventPayload,
} from '../../webhooks/contracts/stripe-event-handler.js';
import { auditedFields } from '../persistence/subscription.mapper.js';
import { SubscriptionOrmEntity } from '../persistence/subscription.orm-entity.js';
import { transformStripeCheckoutSession } from './transform-stripe-checkout-session.js';
import {
  subscriptionStateOf,
  transformStripeSubscription,
  type SubscriptionValues,
} from './transform-stripe-subscription.js';

interface ApplyOptions {
  /** The account to file a new subscription under when its customer is not linked (checkout). */
  accountId?: string | null;
  /** The values were just re-read from Stripe: a same-second tie needs no second re-read. */
  fresh?: boolean;
}

/**
 * Mirrors Stripe subscriptions into `subscriptions` with the app state from the domain's
 * `mapStripeSubscription` (R-SM-2), under the ordering rule (R-SM-3, `decideStaleness`): an older event
 * is skipped, a same-second one re-reads the subscription from Stripe. The Checkout callback and the
 * `checkout.session.completed` webhook converge on one row (upsert by Stripe id, R-SUB-2). Every change
 * of state, plan, seats or cancellation is audited with the Stripe event as actor.
 */
@Injectable()
export class SubscriptionEventsHandler {
  constructor(
    private readonly clock: Clock,
    private readonly audit: AuditFacade,
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
    return this.apply(values, ctx);
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
      const fresh = await ctx.refetch(session.stripeSubscriptionId);
      if (!fresh) return 'ignored';
      const values = transformStripeSubscription(fresh as unknown as Stripe.Subscription);
      return this.apply(values, ctx, { accountId, fresh: true });
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

  private async apply(
    incoming: SubscriptionValues,
    ctx: StripeEventContext,
    options: ApplyOptions = {},
  ): Promise<StripeEventOutcome> {
    const repo = ctx.manager.getRepository(SubscriptionOrmEntity);
    const lock = { mode: 'pessimistic_write' as const };
    let row = await repo.findOne({ where: { stripeSubscriptionId: incoming.stripeSubscriptionId }, lock });
    if (!row) {
      const accountId = await this.accountFor(incoming, ctx, options);
      if (!accountId) return 'ignored';
      const created = this.newRow(incoming, accountId, ctx);
      const inserted = await ctx.manager
        .createQueryBuilder()
        .insert()
        .into(SubscriptionOrmEntity)
        .values(created)
        .orIgnore()
        .returning('id')
        .execute();
      if ((inserted.raw as unknown[]).length > 0) {
        await this.audit.record(
          {
            accountId,
            action: 'subscription.mirrored',
            entityType: 'subscription',
            entityId: created.id,
            before: null,
            after: { stripeSubscriptionId: created.stripeSubscriptionId, ...auditedFields(created) },
            actor: { type: 'stripe_event', id: ctx.event.id },
          },
          ctx.manager,
        );
        return 'applied';
      }
      // Another worker inserted it meanwhile: continue as an update of its committed row.
      row = await repo.findOne({ where: { stripeSubscriptionId: incoming.stripeSubscriptionId }, lock });
      if (!row) throw new Error(`subscription ${incoming.stripeSubscriptionId} neither inserted nor found`);
    }

    let values = incoming;
    const decision = decideStaleness({
      lastApplied: { eventCreated: row.lastEventCreated },
      incoming: { eventCreated: ctx.event.created },
    });
    if (decision === 'skip_stale') return 'skipped_stale';
    if (decision === 'refetch' && !options.fresh) {
      const fresh = await ctx.refetch(incoming.stripeSubscriptionId);
      if (!fresh) return 'ignored';
      values = transformStripeSubscription(fresh as unknown as Stripe.Subscription);
    }

    const before = auditedFields(row);
    this.assign(row, values, ctx);
    row.lastEventCreated = Math.max(row.lastEventCreated, ctx.event.created);
    const after = auditedFields(row);
    const changed = JSON.stringify(before) !== JSON.stringify(after);
    if (changed) row.version += 1;
    row.updatedAt = this.clock.now();
    await repo.save(row);
    if (changed) {
      await this.audit.record(
        {
          accountId: row.accountId,
          action: before.state !== after.state ? 'subscription.state_changed' : 'subscription.updated',
          entityType: 'subscription',
          entityId: row.id,
          before,
          after,
          actor: { type: 'stripe_event', id: ctx.event.id },
        },
        ctx.manager,
      );
    }
    return 'applied';
  }

  /** The customer's account, else the account the app named (checkout reference or metadata). */
  private async accountFor(
    values: SubscriptionValues,
    ctx: StripeEventContext,
    options: ApplyOptions,
  ): Promise<string | null> {
    if (options.accountId) {
      return (
        (await this.accounts.accountForStripeCustomer(ctx.manager, values.stripeCustomerId)) ??
        options.accountId
      );
    }
    return this.accounts.resolveStripeCustomerAccount(ctx, values.stripeCustomerId, values.metadataAccountId);
  }

  private newRow(
    values: SubscriptionValues,
    accountId: string,
    ctx: StripeEventContext,
  ): SubscriptionOrmEntity {
    const now = this.clock.now();
    const row = {
      id: randomUUID(),
      accountId,
      stripeSubscriptionId: values.stripeSubscriptionId,
      pastDueSince: null,
      lastEventCreated: ctx.event.created,
      version: 1,
      createdAt: now,
      updatedAt: now,
    } as SubscriptionOrmEntity;
    this.assign(row, values, ctx);
    return row;
  }

  private assign(row: SubscriptionOrmEntity, values: SubscriptionValues, ctx: StripeEventContext): void {
    // The dunning clock starts when the mirror first sees past_due (the failed invoice's event time).
    row.pastDueSince =
      values.stripeStatus === 'past_due' || values.stripeStatus === 'unpaid'
        ? (row.pastDueSince ?? new Date(ctx.event.created * 1000))
        : null;
    row.state = subscriptionStateOf(values, { pastDueSince: row.pastDueSince, now: this.clock.now() });
    row.stripeCustomerId = values.stripeCustomerId;
    row.stripeStatus = values.stripeStatus;
    row.planId = values.planId;
    row.interval = values.interval;
    row.basePriceId = values.basePriceId;
    row.seatPriceId = values.seatPriceId;
    row.seats = values.seats;
    row.currency = values.currency;
    row.cancelAtPeriodEnd = values.cancelAtPeriodEnd;
    row.cancelAt = values.cancelAt;
    row.canceledAt = values.canceledAt;
    row.cancellationReason = values.cancellationReason;
    row.currentPeriodStart = values.currentPeriodStart;
    row.currentPeriodEnd = values.currentPeriodEnd;
    row.trialStart = values.trialStart;
    row.trialEnd = values.trialEnd;
    row.endedAt = values.endedAt;
    row.latestInvoiceId = values.latestInvoiceId;
    row.stripeCreatedAt = values.stripeCreatedAt;
  }
}
