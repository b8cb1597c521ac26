import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { runStatement, type StatementPart } from '../../../../platform/database/row-sql.js';
import { Clock } from '../../../../platform/clock/clock.js';
import { IntegrationsFacade } from '../../../integrations/integrations.facade.js';
import { NotificationsFacade } from '../../../notifications/notifications.facade.js';
import type { RefundOrmEntity } from '../../persistence/refund.orm-entity.js';

/**
 * What follows a refund's status change, in the transaction that made it and whichever path made it (a
 * refund webhook, or the API when Stripe refused the refund outright): the integration event of a
 * refund that succeeded or failed, and the e-mail of one that succeeded (once per refund, R-REF-3).
 */
@Injectable()
export class RecordRefundStatusChangeHandler {
  constructor(
    private readonly clock: Clock,
    private readonly notifications: NotificationsFacade,
    private readonly integrations: IntegrationsFacade,
  ) {}

  async execute(
    manager: EntityManager,
    row: RefundOrmEntity,
    from: RefundOrmEntity['status'] | null,
    causeId: string,
  ): Promise<void> {
    // One statement: the integration event and the e-mail (see StatementPart).
    const parts: StatementPart[] = [];
    if (row.status === 'succeeded' || row.status === 'failed') {
      parts.push(
        this.integrations.recordPart({
          accountId: row.accountId,
          type: row.status === 'succeeded' ? 'refund.succeeded' : 'refund.failed',
          subjectId: row.id,
          causeId,
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
  }
}
