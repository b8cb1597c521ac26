import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { AfterCommit } from '../../../platform/database/after-commit.js';
import { OnDomainEvent, type DomainEvent } from '../../../platform/events/domain-event.js';
import { RefundMetrics } from '../refund.metrics.js';

/** Counts each refund status change in the refunds-by-outcome metric once its transaction commits. */
@Injectable()
export class CountRefundStatusListener {
  constructor(
    private readonly afterCommit: AfterCommit,
    private readonly metrics: RefundMetrics,
  ) {}

  @OnDomainEvent('refund.status_changed')
  count(event: DomainEvent<'refund.status_changed'>, manager: EntityManager): void {
    const status = event.payload.to;
    this.afterCommit.run(manager, () => this.metrics.statusChanged(status));
  }
}
