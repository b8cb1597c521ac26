import { decideStaleness, refundCanBecome } from '@billing/domain';
import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type Stripe from 'stripe';
import { Clock } from '../../../platform/clock/clock.js';
import { AfterCommit } from '../../../platform/database/after-commit.js';
import { JobQueue } from '../../../platform/queue/job-queue.js';
import { recordBalance } from '../../../platform/stripe/balance-transaction.js';
import { AuditFacade } from '../../audit/audit.facade.js';
import type { LockedPaymentRef } from '../../payments/contracts/payment.view.js';
import { PaymentsFacade } from '../../payments/payments.facade.js';
import {
  eventActor,
  HandlesStripeEvents,
  PermanentEventError,
  type StripeEventContext,
  type StripeEventOutcome,
  type StripeEventPayload,
} from '../../webhooks/contracts/stripe-event-handler.js';
import { RefundStatusPublisher } from '../persistence/refund-status.publisher.js';
import { toRefundLine } from '../persistence/refund.mapper.js';
import { RefundOrmEntity } from '../persistence/refund.orm-entity.js';
import { transformStripeRefund, type RefundValues } from './transform-stripe-refund.js';

/**
 * Mirrors refunds (R-REF-3), including those made in Stripe's dashboard (R-REF-4), and moves the
 * payment to partially_refunded / refunded through the payments module. Lock order: the payment
 * first, then the refund, in every path, so concurrent refund events cannot deadlock.
 */
@Injectable()
export class RefundEventsHandler {
  constructor(
    private readonly clock: Clock,
    private readonly afterCommit: AfterCommit,
    private readonly jobs: JobQueue,
    private readonly audit: AuditFacade,
    private readonly payments: PaymentsFacade,
    private readonly statusChange: RefundStatusPublisher,
  ) {}

  @HandlesStripeEvents('refund.created', 'refund.updated', 'refund.failed', 'charge.refund.updated')
  async onRefund(event: StripeEventPayload, ctx: StripeEventContext): Promise<StripeEventOutcome> {
    const values = transformStripeRefund(event.data.object as Stripe.Refund);
    if (!values.stripePaymentIntentId) return 'ignored';
    const payment = await this.payments.lockForRefund(values.stripePaymentIntentId, ctx);
    if (!payment) return 'ignored';
    const outcome = await this.upsert(values, payment, ctx, true);
    await this.applyToPayment(payment, ctx);
    return outcome;
  }

  /** `charge.refunded`: refunds listed in the payload (when expanded) are mirrored, then the payment. */
  @HandlesStripeEvents('charge.refunded')
  async onChargeRefunded(event: StripeEventPayload, ctx: StripeEventContext): Promise<StripeEventOutcome> {
    const charge = event.data.object as Stripe.Charge;
    const intentId =
      typeof charge.payment_intent === 'string' ? charge.payment_intent : (charge.payment_intent?.id ?? null);
    if (!intentId) return 'ignored';
    const payment = await this.payments.lockForRefund(intentId, ctx);
    if (!payment) return 'ignored';
    for (const refund of charge.refunds?.data ?? []) {
      await this.upsert(transformStripeRefund(refund), payment, ctx, false);
    }
    return (await this.applyToPayment(payment, ctx)) ? 'applied' : 'ignored';
  }

  private async upsert(
    incoming: RefundValues,
    payment: LockedPaymentRef,
    ctx: StripeEventContext,
    ordered: boolean,
  ): Promise<StripeEventOutcome> {
    const repo = ctx.manager.getRepository(RefundOrmEntity);
    const lock = { mode: 'pessimistic_write' as const };
    let row = await repo.findOne({ where: { stripeRefundId: incoming.stripeRefundId }, lock });
    if (!row && incoming.appRefundId) {
      const ours = await repo.findOne({ where: { id: incoming.appRefundId }, lock });
      if (ours && ours.stripeRefundId === null && ours.paymentId === payment.id) {
        ours.stripeRefundId = incoming.stripeRefundId;
        row = ours;
      }
    }
    if (!row) {
      if (incoming.currency !== payment.currency) {
        throw new PermanentEventError(
          `refund ${incoming.stripeRefundId} is in ${incoming.currency}, its payment in ${payment.currency}`,
        );
      }
      const now = this.clock.now();
      const fresh: RefundOrmEntity = {
        id: randomUUID(),
        paymentId: payment.id,
        accountId: payment.accountId,
        stripeRefundId: incoming.stripeRefundId,
        stripeChargeId: incoming.stripeChargeId,
        amount: incoming.amount,
        currency: incoming.currency,
        status: incoming.status,
        reason: incoming.reason,
        note: null,
        failureReason: incoming.failureReason,
        balanceTransactionId: null,
        fee: null,
        net: null,
        origin: 'stripe',
        stripeCreatedAt: incoming.stripeCreatedAt,
        lastEventCreated: ctx.event.created,
        createdAt: incoming.stripeCreatedAt ?? now,
        updatedAt: now,
      };
      this.completeBalance(fresh, incoming, ctx);
      const inserted = await ctx.manager
        .createQueryBuilder()
        .insert()
        .into(RefundOrmEntity)
        .values(fresh)
        .orIgnore()
        .returning('id')
        .execute();
      if ((inserted.raw as unknown[]).length > 0) {
        await this.audit.record(
          {
            accountId: payment.accountId,
            action: 'refund.mirrored',
            entityType: 'refund',
            entityId: fresh.id,
            after: {
              paymentId: payment.id,
              stripeRefundId: fresh.stripeRefundId,
              amount: fresh.amount,
              currency: fresh.currency,
              status: fresh.status,
              reason: fresh.reason,
            },
            actor: eventActor(ctx),
          },
          ctx.manager,
        );
        await this.statusChange.execute(ctx.manager, fresh, null);
        return 'applied';
      }
      row = await repo.findOne({ where: { stripeRefundId: incoming.stripeRefundId }, lock });
      if (!row) throw new Error(`refund ${incoming.stripeRefundId} neither inserted nor found`);
    }

    let values = incoming;
    if (ordered) {
      const decision = decideStaleness({
        lastApplied: row.lastEventCreated === null ? null : { eventCreated: row.lastEventCreated },
        incoming: { eventCreated: ctx.event.created },
      });
      if (decision === 'skip_stale') return 'skipped_stale';
      if (decision === 'refetch') {
        const fresh = await ctx.refetch(incoming.stripeRefundId);
        if (!fresh) return 'ignored';
        // The re-read is not expanded: keep the balance transaction the caller read.
        values = { ...transformStripeRefund(fresh as unknown as Stripe.Refund), balance: incoming.balance };
      }
      row.lastEventCreated = Math.max(row.lastEventCreated ?? 0, ctx.event.created);
    } else if (
      (row.lastEventCreated !== null && row.lastEventCreated > ctx.event.created) ||
      !refundCanBecome(row.status, values.status)
    ) {
      // An unordered source (a charge's refund list) never overrides a newer refund event, nor moves a
      // refund back (a list of the same second may still show it pending after it succeeded).
      return 'skipped_stale';
    }
    const before = { status: row.status, amount: row.amount, failureReason: row.failureReason };
    row.status = values.status;
    row.amount = values.amount;
    row.reason = values.reason ?? row.reason;
    row.failureReason = values.failureReason;
    row.stripeChargeId = values.stripeChargeId ?? row.stripeChargeId;
    row.stripeCreatedAt = row.stripeCreatedAt ?? values.stripeCreatedAt;
    this.completeBalance(row, values, ctx);
    row.updatedAt = this.clock.now();
    await repo.save(row);
    const after = { status: row.status, amount: row.amount, failureReason: row.failureReason };
    if (before.status !== after.status || before.amount !== after.amount) {
      await this.audit.record(
        {
          accountId: row.accountId,
          action: 'refund.status_changed',
          entityType: 'refund',
          entityId: row.id,
          before,
          after,
          actor: eventActor(ctx),
        },
        ctx.manager,
      );
    }
    if (before.status !== after.status) await this.statusChange.execute(ctx.manager, row, before.status);
    return 'applied';
  }

  /**
   * Records a succeeded refund's balance transaction (fee, net; R-REC fees and nets): as given when the
   * refund came expanded (reconciliation, an admin's apply); else, while unrecorded, it is read from
   * Stripe by a job after this transaction commits (`refunds.record-balance`): never here, where the
   * payment's and refund's row locks and the batch's other events would wait for Stripe.
   */
  private completeBalance(row: RefundOrmEntity, values: RefundValues, ctx: StripeEventContext): void {
    if (row.status !== 'succeeded') return;
    if (values.balance) {
      recordBalance(row, values.balance);
      return;
    }
    if (row.fee !== null || !values.balanceTransactionId) return;
    const payload = { refundId: row.id, balanceTransactionId: values.balanceTransactionId };
    this.afterCommit.run(ctx.manager, () =>
      this.jobs.enqueue('refunds.record-balance', payload, { jobId: `refund-balance:${row.id}` }),
    );
  }

  private async applyToPayment(payment: LockedPaymentRef, ctx: StripeEventContext): Promise<boolean> {
    const refunds = await ctx.manager
      .getRepository(RefundOrmEntity)
      .find({ where: { paymentId: payment.id } });
    return this.payments.applyRefunds(payment.id, refunds.map(toRefundLine), ctx);
  }
}
