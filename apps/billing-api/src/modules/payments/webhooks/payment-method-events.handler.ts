import { decideStaleness } from '@billing/domain';
import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type Stripe from 'stripe';
import { Clock } from '../../../platform/clock/clock.js';
import { DomainEvents } from '../../../platform/events/domain-events.js';
import { AuditFacade } from '../../audit/audit.facade.js';
import {
  HandlesStripeEvents,
  type StripeEventContext,
  type StripeEventOutcome,
  type StripeEventPayload,
} from '../../webhooks/contracts/stripe-event-handler.js';
import { AccountsFacade } from '../../accounts/accounts.facade.js';
import { paymentMethodAutomaticallyUpdated } from '../contracts/payment.events.js';
import { PaymentMethodOrmEntity } from '../persistence/payment-method.orm-entity.js';
import {
  transformStripePaymentMethod,
  type PaymentMethodValues,
} from '../stripe/transform-stripe-payment-method.js';

/** Mirrors a customer's saved payment methods (R-PAY-2): attached, detached, card details updated. */
@Injectable()
export class PaymentMethodEventsHandler {
  constructor(
    private readonly clock: Clock,
    private readonly audit: AuditFacade,
    private readonly accounts: AccountsFacade,
    private readonly events: DomainEvents,
  ) {}

  @HandlesStripeEvents(
    'payment_method.attached',
    'payment_method.detached',
    'payment_method.automatically_updated',
    'payment_method.updated',
  )
  async onPaymentMethod(event: StripeEventPayload, ctx: StripeEventContext): Promise<StripeEventOutcome> {
    const pm = event.data.object as Stripe.PaymentMethod;
    const previous = (event.data as { previous_attributes?: Record<string, unknown> }).previous_attributes;
    let values = transformStripePaymentMethod(pm, previous);
    const repo = ctx.manager.getRepository(PaymentMethodOrmEntity);
    const lock = { mode: 'pessimistic_write' as const };
    let row = await repo.findOne({ where: { stripePaymentMethodId: values.stripePaymentMethodId }, lock });
    if (!row) {
      const accountId = await this.accounts.resolveStripeCustomerAccount(
        ctx,
        values.stripeCustomerId ?? values.previousCustomerId,
      );
      if (!accountId) return 'ignored';
      const now = this.clock.now();
      const inserted = await ctx.manager
        .createQueryBuilder()
        .insert()
        .into(PaymentMethodOrmEntity)
        .values({
          id: randomUUID(),
          stripePaymentMethodId: values.stripePaymentMethodId,
          accountId,
          stripeCustomerId: values.stripeCustomerId ?? values.previousCustomerId,
          type: values.type,
          cardBrand: values.cardBrand,
          cardLast4: values.cardLast4,
          cardExpMonth: values.cardExpMonth,
          cardExpYear: values.cardExpYear,
          cardFunding: values.cardFunding,
          status: values.stripeCustomerId ? 'attached' : 'detached',
          attachedAt: values.stripeCustomerId ? now : null,
          detachedAt: values.stripeCustomerId ? null : now,
          lastEventCreated: ctx.event.created,
          createdAt: now,
          updatedAt: now,
        })
        .orIgnore()
        .returning('id')
        .execute();
      if ((inserted.raw as unknown[]).length > 0) {
        await this.audit.record(
          {
            accountId,
            action: values.stripeCustomerId ? 'payment_method.attached' : 'payment_method.detached',
            entityType: 'payment_method',
            entityId: values.stripePaymentMethodId,
            after: summary(values),
            actor: { type: 'stripe_event', id: ctx.event.id },
          },
          ctx.manager,
        );
        return 'applied';
      }
      row = await repo.findOne({ where: { stripePaymentMethodId: values.stripePaymentMethodId }, lock });
      if (!row) throw new Error(`payment method ${values.stripePaymentMethodId} neither inserted nor found`);
    }

    const decision = decideStaleness({
      lastApplied: row.lastEventCreated === null ? null : { eventCreated: row.lastEventCreated },
      incoming: { eventCreated: ctx.event.created },
    });
    if (decision === 'skip_stale') return 'skipped_stale';
    if (decision === 'refetch') {
      const fresh = await ctx.refetch(values.stripePaymentMethodId);
      if (!fresh) return 'ignored';
      values = transformStripePaymentMethod(fresh as unknown as Stripe.PaymentMethod, null);
    }
    const now = this.clock.now();
    const status = values.stripeCustomerId ? 'attached' : 'detached';
    const before = { status: row.status, ...summary(row) };
    if (status !== row.status) {
      if (status === 'attached') row.attachedAt = now;
      else row.detachedAt = now;
    }
    row.status = status;
    if (values.stripeCustomerId) row.stripeCustomerId = values.stripeCustomerId;
    row.type = values.type;
    row.cardBrand = values.cardBrand;
    row.cardLast4 = values.cardLast4;
    row.cardExpMonth = values.cardExpMonth;
    row.cardExpYear = values.cardExpYear;
    row.cardFunding = values.cardFunding;
    row.lastEventCreated = Math.max(row.lastEventCreated ?? 0, ctx.event.created);
    row.updatedAt = now;
    await repo.save(row);
    const after = { status: row.status, ...summary(row) };
    if (JSON.stringify(before) !== JSON.stringify(after)) {
      await this.audit.record(
        {
          accountId: row.accountId,
          action:
            before.status !== after.status ? `payment_method.${after.status}` : 'payment_method.updated',
          entityType: 'payment_method',
          entityId: row.stripePaymentMethodId,
          before,
          after,
          actor: { type: 'stripe_event', id: ctx.event.id },
        },
        ctx.manager,
      );
    }
    if (event.type === 'payment_method.automatically_updated' && row.status === 'attached' && row.accountId) {
      await this.events.publish(ctx.manager, [
        paymentMethodAutomaticallyUpdated({
          accountId: row.accountId,
          stripePaymentMethodId: row.stripePaymentMethodId,
          occurredAt: new Date(ctx.event.created * 1000).toISOString(),
        }),
      ]);
    }
    return 'applied';
  }
}

function summary(
  v: Pick<
    PaymentMethodValues,
    'type' | 'cardBrand' | 'cardLast4' | 'cardExpMonth' | 'cardExpYear' | 'cardFunding'
  >,
) {
  return {
    type: v.type,
    brand: v.cardBrand,
    last4: v.cardLast4,
    expMonth: v.cardExpMonth,
    expYear: v.cardExpYear,
    funding: v.cardFunding,
  };
}
