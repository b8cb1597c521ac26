import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { Clock } from '../../../platform/clock/clock.js';
import { OnDomainEvent, type DomainEvent } from '../../../platform/events/domain-event.js';
import { NotificationsFacade } from '../notifications.facade.js';

/** The customer is e-mailed once per refund that succeeded (R-REF-3), through the outbox. */
@Injectable()
export class RefundIssuedEmailListener {
  constructor(
    private readonly clock: Clock,
    private readonly notifications: NotificationsFacade,
  ) {}

  @OnDomainEvent('refund.status_changed')
  async refundStatusChanged(
    event: DomainEvent<'refund.status_changed'>,
    manager: EntityManager,
  ): Promise<void> {
    const r = event.payload;
    if (r.to !== 'succeeded') return;
    await this.notifications.enqueue(manager, {
      accountId: r.accountId,
      template: 'refund_issued',
      dedupeKey: `refund:${r.refundId}`,
      payload: {
        paymentId: r.paymentId,
        refundId: r.refundId,
        amount: r.amount,
        currency: r.currency,
        refundedAt: this.clock.now().toISOString(),
        reason: r.reason,
      },
    });
  }
}
