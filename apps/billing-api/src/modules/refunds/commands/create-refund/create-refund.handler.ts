import { checkRefundEligibility, money, type RefundStatus } from '@billing/domain';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import type Stripe from 'stripe';
import { DataSource } from 'typeorm';
import { Clock } from '../../../../platform/clock/clock.js';
import { AppConfig } from '../../../../platform/config/app-config.js';
import { queryRows } from '../../../../platform/database/row-sql.js';
import { ApiError } from '../../../../platform/http/api-error.js';
import { IdempotencyClaims, linkKeySql } from '../../../../platform/idempotency/idempotency-claim.js';
import { StripeCallError } from '../../../../platform/stripe/stripe-errors.js';
import { StripeGateway } from '../../../../platform/stripe/stripe.gateway.js';
import { uuidOrNull } from '../../../../platform/validation/uuid.js';
import { AuditFacade } from '../../../audit/audit.facade.js';
import { PaymentsFacade } from '../../../payments/payments.facade.js';
import type { RefundReason } from '../../http/dto/refund.dto.js';
import type { RefundView } from '../../contracts/refund.view.js';
import { toRefundView } from '../../persistence/refund.mapper.js';
import { RefundOrmEntity } from '../../persistence/refund.orm-entity.js';
import { RefundStatusPublisher } from '../../persistence/refund-status.publisher.js';

export interface CreateRefundCommand {
  paymentId: string;
  amount?: number | undefined;
  reason: RefundReason;
  note?: string | undefined;
}

const STRIPE_REASON: Record<RefundReason, Stripe.RefundCreateParams.Reason | null> = {
  duplicate: 'duplicate',
  fraudulent: 'fraudulent',
  requested_by_customer: 'requested_by_customer',
  other: null,
};

/**
 * Issues a refund (R-REF). In one transaction: lock the payment, check eligibility with the domain
 * (remaining = captured - succeeded and in-flight refunds, refund window), insert our refund row
 * (pending, origin `api`): concurrent refunds of one payment are serialised by the lock, so their total
 * can never exceed what was captured. Then Stripe, with a key derived from our refund id and
 * `metadata.refund_id` so the webhook mirror links its refund to our row; webhooks settle the status.
 */
/** Stripe's codes for a refund larger than what is left on the charge. */
const OVER_REFUNDED: ReadonlySet<string> = new Set(['charge_already_refunded', 'amount_too_large']);

@Injectable()
export class CreateRefundHandler {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly gateway: StripeGateway,
    private readonly clock: Clock,
    private readonly config: AppConfig,
    private readonly audit: AuditFacade,
    private readonly payments: PaymentsFacade,
    private readonly statusChange: RefundStatusPublisher,
  ) {}

  async execute(command: CreateRefundCommand): Promise<RefundView> {
    if (!uuidOrNull(command.paymentId)) throw new ApiError('not_found', 'The payment was not found.');
    const { row, paymentIntentId } = await this.db.transaction(async (manager) => {
      const payment = await this.payments.lockForApiRefund(command.paymentId, manager);
      if (!payment) throw new ApiError('not_found', 'The payment was not found.');
      const refunds = await manager.getRepository(RefundOrmEntity).find({ where: { paymentId: payment.id } });
      const now = this.clock.now();
      const decision = checkRefundEligibility({
        paymentStatus: payment.status,
        captured: money(payment.amountReceived, payment.currency),
        refunds: refunds.map((r) => ({ amount: money(r.amount, r.currency), status: r.status })),
        ...(command.amount !== undefined ? { requested: money(command.amount, payment.currency) } : {}),
        paidAt: new Date(payment.succeededAt ?? payment.createdAt),
        now,
        refundWindowDays: this.config.payments.refundWindowDays,
      });
      if (!decision.ok) throw ApiError.fromRejection(decision.error, 'amount');
      if (!payment.stripePaymentIntentId) {
        throw new ApiError('payment_not_refundable', 'The payment is not known to the provider yet.');
      }
      const refund: RefundOrmEntity = {
        id: randomUUID(),
        paymentId: payment.id,
        accountId: payment.accountId,
        stripeRefundId: null,
        stripeChargeId: payment.latestChargeId,
        amount: decision.value.amount.amountMinor,
        currency: payment.currency,
        status: 'pending',
        reason: command.reason,
        note: command.note ?? null,
        failureReason: null,
        balanceTransactionId: null,
        fee: null,
        net: null,
        origin: 'api',
        stripeCreatedAt: null,
        lastEventCreated: null,
        createdAt: now,
        updatedAt: now,
      };
      await manager.getRepository(RefundOrmEntity).insert(refund);
      // Linked to its Idempotency-Key in the same transaction (issue 16): a retry of a request that
      // failed or died after this commit is answered from the refund (`CreateRefundOutcome`), never
      // refunded again; a request whose key a retry took over writes nothing.
      const claim = IdempotencyClaims.current();
      if (claim && (await queryRows(manager, linkKeySql(claim, refund.id))).length === 0) {
        throw new ApiError(
          'idempotency_key_in_use',
          'A retry with this Idempotency-Key took the request over; its answer is the one to use.',
          { param: 'Idempotency-Key' },
        );
      }
      await this.audit.record(
        {
          accountId: payment.accountId,
          action: 'refund.created',
          entityType: 'refund',
          entityId: refund.id,
          after: {
            paymentId: payment.id,
            amount: refund.amount,
            currency: refund.currency,
            reason: command.reason,
            remainingAfter: decision.value.remainingAfter.amountMinor,
          },
          ...(command.note ? { reason: command.note } : {}),
        },
        manager,
      );
      return { row: refund, paymentIntentId: payment.stripePaymentIntentId };
    });

    return this.submit(row, paymentIntentId);
  }

  /**
   * Re-sends a refund whose Stripe call got no answer (janitor): same parameters, same idempotency key,
   * so Stripe replays its first answer or makes the refund once. Null when there is nothing to do.
   */
  async resubmit(refundId: string): Promise<RefundView | null> {
    const row = await this.db.getRepository(RefundOrmEntity).findOne({ where: { id: refundId } });
    if (!row || row.origin !== 'api' || row.status !== 'pending' || row.stripeRefundId !== null) return null;
    const payment = await this.payments.getPayment(row.paymentId);
    if (!payment?.stripePaymentIntentId) return null;
    try {
      return await this.submit(row, payment.stripePaymentIntentId);
    } catch (error) {
      if (error instanceof ApiError) return null;
      throw error;
    }
  }

  /** The Stripe call, with parameters derived only from the stored row (a resubmission must match). */
  private async submit(row: RefundOrmEntity, paymentIntentId: string): Promise<RefundView> {
    const reason = (row.reason ?? 'other') as RefundReason;
    const stripeReason = STRIPE_REASON[reason] ?? null;
    let answer: Stripe.Refund;
    try {
      answer = await this.gateway.call('refund.create', (stripe) =>
        stripe.refunds.create(
          {
            payment_intent: paymentIntentId,
            amount: row.amount,
            ...(stripeReason ? { reason: stripeReason } : {}),
            metadata: {
              refund_id: row.id,
              payment_id: row.paymentId,
              account_id: row.accountId,
              reason,
              ...(row.note !== null ? { note: row.note } : {}),
            },
          },
          { idempotencyKey: StripeGateway.idempotencyKey('refund.create', row.id) },
        ),
      );
    } catch (error) {
      if (
        error instanceof StripeCallError &&
        !error.outcomeUnknown &&
        error.kind !== 'rate_limited' &&
        error.kind !== 'idempotency'
      ) {
        // Stripe refused: nothing was refunded; the row stops holding money.
        await this.settle(row.id, null, 'failed', error.detail.stripeCode ?? error.code);
        if (error.detail.stripeCode && OVER_REFUNDED.has(error.detail.stripeCode)) {
          // Refunded outside the app (e.g. the dashboard) and not yet seen here: the client's conflict.
          throw new ApiError('refund_exceeds_remaining', 'Stripe has less left to refund on this payment.', {
            details: { refund_id: row.id },
            executed: true,
          });
        }
        // Executed (the refund is kept as failed): its Idempotency-Key keeps this answer.
        const mapped = ApiError.fromStripe(error);
        throw new ApiError(mapped.code, mapped.message, { ...mapped.options, executed: true });
      }
      // Unknown outcome: the refund stays pending (and keeps holding its amount) until a webhook or the
      // janitor settles it.
      return toRefundView(row);
    }
    // The status (and the payment's partially_refunded / refunded) follows from the refund webhooks.
    return this.settle(row.id, answer.id, 'pending', null);
  }

  /** Records Stripe's answer unless a webhook got there first. */
  private async settle(
    refundId: string,
    stripeRefundId: string | null,
    status: RefundStatus,
    failureReason: string | null,
  ): Promise<RefundView> {
    return this.db.transaction(async (manager) => {
      const repo = manager.getRepository(RefundOrmEntity);
      const row = await repo.findOneOrFail({ where: { id: refundId }, lock: { mode: 'pessimistic_write' } });
      if (stripeRefundId && row.stripeRefundId === null) row.stripeRefundId = stripeRefundId;
      if (row.status === 'pending' && status !== 'pending' && row.lastEventCreated === null) {
        row.status = status;
        row.failureReason = failureReason;
        await this.audit.record(
          {
            accountId: row.accountId,
            action: 'refund.status_changed',
            entityType: 'refund',
            entityId: row.id,
            before: { status: 'pending' },
            after: { status, ...(failureReason ? { failureReason } : {}) },
          },
          manager,
        );
        await this.statusChange.execute(manager, row, 'pending');
      }
      row.updatedAt = this.clock.now();
      await repo.save(row);
      return toRefundView(row);
    });
  }
}
