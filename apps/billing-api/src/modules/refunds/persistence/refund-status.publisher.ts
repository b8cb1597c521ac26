import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { Clock } from '../../../platform/clock/clock.js';
import { DomainEvents } from '../../../platform/events/domain-events.js';
import { refundStatusChanged } from '../contracts/refund.events.js';
import type { RefundOrmEntity } from './refund.orm-entity.js';

/**
 * Announces a refund's status change (`refund.status_changed`) in the transaction that made it,
 * whichever path made it (a refund webhook, or the API when Stripe refused the refund outright). Its
 * listeners: the integration event (integrations), the refund e-mail (notifications), the refunds
 * metric (refunds).
 */
@Injectable()
export class RefundStatusPublisher {
  constructor(
    private readonly clock: Clock,
    private readonly events: DomainEvents,
  ) {}

  execute(
    manager: EntityManager,
    row: RefundOrmEntity,
    from: RefundOrmEntity['status'] | null,
  ): Promise<void> {
    return this.events.publish(manager, [
      refundStatusChanged({
        refundId: row.id,
        paymentId: row.paymentId,
        accountId: row.accountId,
        from,
        to: row.status,
        amount: row.amount,
        currency: row.currency,
        reason: row.reason,
        failureReason: row.failureReason,
        stripeRefundId: row.stripeRefundId,
        occurredAt: this.clock.now().toISOString(),
      }),
    ]);
  }
}
