import type { PaymentStatus } from '@billing/domain';
import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { raw, runStatement, sql, type StatementPart } from '../../../../platform/database/row-sql.js';
import { Clock } from '../../../../platform/clock/clock.js';
import type { IntegrationEventType } from '../../../integrations/contracts/integration-event.js';
import { IntegrationsFacade } from '../../../integrations/integrations.facade.js';
import { AfterCommit } from '../../../../platform/database/after-commit.js';
import { ReceiptsFacade } from '../../../receipts/receipts.facade.js';
import { PaymentMetrics } from '../../payment.metrics.js';
import type { PaymentOrmEntity } from '../../persistence/payment.orm-entity.js';

/** Statuses in which the refunded total decides the status (succeeded / partially_refunded / refunded). */
export const CAPTURED: readonly PaymentStatus[] = ['succeeded', 'partially_refunded', 'refunded'];

/**
 * The outbound integration event of each status a payment moves to (seed 002); null where an integrator
 * has nothing to act on. `pending` is our row before Stripe was asked (nothing happened yet); `unknown`
 * means Stripe's answer was lost, not that the payment changed: the janitor re-reads it and the settled
 * status is announced then. Exhaustive, so a new status does not compile until it is decided here.
 */
export const PAYMENT_EVENT_TYPES = {
  pending: null,
  requires_action: 'payment.requires_action',
  processing: 'payment.processing',
  succeeded: 'payment.succeeded',
  failed: 'payment.failed',
  canceled: 'payment.canceled',
  partially_refunded: 'payment.partially_refunded',
  refunded: 'payment.refunded',
  unknown: null,
} as const satisfies Record<PaymentStatus, IntegrationEventType | null>;

/** True when a move from `from` to `to` captures the payment for the first time (it gets its receipt). */
export function capturesFirstTime(from: PaymentStatus | null, to: PaymentStatus): boolean {
  return CAPTURED.includes(to) && (from === null || !CAPTURED.includes(from));
}

/**
 * What follows a payment's status change, in the transaction that made it and whichever path made it
 * (the API applying Stripe's answer, or a webhook): the integration event of the new status
 * (PAYMENT_EVENT_TYPES), and for a first capture the receipt with its e-mail (R-PAY-4). The caller holds
 * the payment's row lock; the path that moves the status does this once. The event is keyed by the
 * change itself (the payment and its version after the change), not by what caused it: the change the
 * API's answer and the webhook both report is recorded by whichever applied it, once, and a status the
 * payment comes back to (a retried 3-D Secure challenge that fails again) is a new change, announced
 * again.
 */
@Injectable()
export class RecordStatusChangeHandler {
  constructor(
    private readonly clock: Clock,
    private readonly receipts: ReceiptsFacade,
    private readonly integrations: IntegrationsFacade,
    private readonly afterCommit: AfterCommit,
    private readonly metrics: PaymentMetrics,
  ) {}

  async execute(manager: EntityManager, row: PaymentOrmEntity, from: PaymentStatus | null): Promise<void> {
    const parts = this.followUps(row, from);
    if (parts.length > 0) await runStatement(manager, parts);
    this.count(manager, row.status);
  }

  /**
   * The same writes as parts of the caller's statement (one round trip with the change itself); with
   * `onlyWith`, written only when that CTE returned a row (the version-checked change happened).
   */
  parts(row: PaymentOrmEntity, from: PaymentStatus | null, onlyWith?: string): StatementPart[] {
    const status = row.status;
    return [
      ...this.followUps(row, from, onlyWith),
      {
        ctes: [],
        outputs: [
          onlyWith
            ? sql`EXISTS (SELECT 1 FROM ${raw(onlyWith)}) AS payment_status_changed`
            : sql`true AS payment_status_changed`,
        ],
        written: (manager, result) => {
          if (result.payment_status_changed === true) this.count(manager, status);
        },
      },
    ];
  }

  /** The change counts in the payments-by-outcome metric once its transaction has committed. */
  private count(manager: EntityManager, status: PaymentStatus): void {
    this.afterCommit.run(manager, () => this.metrics.statusChanged(status));
  }

  /** The integration event and, on a first capture, the receipt with its e-mail. */
  private followUps(row: PaymentOrmEntity, from: PaymentStatus | null, onlyWith?: string): StatementPart[] {
    const parts: StatementPart[] = [];
    const type = PAYMENT_EVENT_TYPES[row.status];
    if (type !== null) {
      parts.push(
        this.integrations.recordPart(
          {
            accountId: row.accountId,
            type,
            subjectId: row.id,
            causeId: `v${row.version}`,
            data: {
              paymentId: row.id,
              status: row.status,
              previousStatus: from,
              amount: row.amount,
              amountReceived: row.amountReceived,
              amountRefunded: row.amountRefunded,
              currency: row.currency,
              orderReference: row.orderReference,
              stripePaymentIntentId: row.stripePaymentIntentId,
              failureCode: row.failureCode,
              declineCode: row.declineCode,
            },
          },
          onlyWith,
        ),
      );
    }
    if (capturesFirstTime(from, row.status)) {
      parts.push(
        ...this.receipts.issueForPaymentParts(
          {
            paymentId: row.id,
            accountId: row.accountId,
            amount: row.amountReceived,
            currency: row.currency,
            succeededAt: row.succeededAt ?? this.clock.now(),
            methodBrand: row.cardBrand,
            methodLast4: row.cardLast4,
            description: row.description,
          },
          onlyWith,
        ),
      );
    }
    return parts;
  }
}
