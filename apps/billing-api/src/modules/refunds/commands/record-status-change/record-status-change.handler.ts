import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { runStatement, type StatementPart } from '../../../../platform/database/row-sql.js';
import { Clock } from '../../../../platform/clock/clock.js';
import type { IntegrationEventType } from '../../../integrations/contracts/integration-event.js';
import { IntegrationsFacade } from '../../../integrations/integrations.facade.js';
import { AfterCommit } from '../../../../platform/database/after-commit.js';
import { NotificationsFacade } from '../../../notifications/notifications.facade.js';
import { RefundMetrics } from '../../refund.metrics.js';
import type { RefundOrmEntity } from '../../persistence/refund.orm-entity.js';

/**
 * The outbound integration event of each status a refund moves to; null for `pending`, where a refund
 * starts (nothing happened yet). A refund reaches each status at most once, so the event is keyed by
 * refund and status. Exhaustive: a new status does not compile until it is decided here.
 */
export const REFUND_EVENT_TYPES = {
  pending: null,
  requires_action: 'refund.requires_action',
  succeeded: 'refund.succeeded',
  failed: 'refund.failed',
  canceled: 'refund.canceled',
} as const satisfies Record<RefundOrmEntity['status'], IntegrationEventType | null>;

/**
 * What follows a refund's status change, in the transaction that made it and whichever path made it (a
 * refund webhook, or the API when Stripe refused the refund outright): the integration event of the
 * new status (REFUND_EVENT_TYPES), and the e-mail of one that succeeded (once per refund, R-REF-3).
 */
@Injectable()
export class RecordRefundStatusChangeHandler {
  constructor(
    private readonly clock: Clock,
    private readonly notifications: NotificationsFacade,
    private readonly integrations: IntegrationsFacade,
    private readonly afterCommit: AfterCommit,
    private readonly metrics: RefundMetrics,
  ) {}

  async execute(
    manager: EntityManager,
    row: RefundOrmEntity,
    from: RefundOrmEntity['status'] | null,
  ): Promise<void> {
    // One statement: the integration event and the e-mail (see StatementPart).
    const parts: StatementPart[] = [];
    const type = REFUND_EVENT_TYPES[row.status];
    if (type !== null) {
      parts.push(
        this.integrations.recordPart({
          accountId: row.accountId,
          type,
          subjectId: row.id,
          causeId: null,
          data: {
            refundId: row.id,
            paymentId: row.paymentId,
            status: row.status,
            previousStatus: from,
            amount: row.amount,
            currency: row.currency,
            reason: row.reason,
            failureReason: row.failureReason,
            stripeRefundId: row.stripeRefundId,
          },
        }),
      );
    }
    if (row.status === 'succeeded') {
      parts.push(
        this.notifications.enqueuePart({
          accountId: row.accountId,
          template: 'refund_issued',
          dedupeKey: `refund:${row.id}`,
          payload: {
            paymentId: row.paymentId,
            refundId: row.id,
            amount: row.amount,
            currency: row.currency,
            refundedAt: this.clock.now().toISOString(),
            reason: row.reason,
          },
        }),
      );
    }
    if (parts.length > 0) await runStatement(manager, parts);
    // Counted in the refunds-by-outcome metric once the caller's transaction has committed.
    const status = row.status;
    this.afterCommit.run(manager, () => this.metrics.statusChanged(status));
  }
}
