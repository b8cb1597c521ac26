import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { AfterCommit } from '../../../platform/database/after-commit.js';
import { raw, sql, type StatementPart } from '../../../platform/database/row-sql.js';
import { OnDomainEventInStatement, type DomainEvent } from '../../../platform/events/domain-event.js';
import { PaymentMetrics } from '../payment.metrics.js';

/**
 * Counts each payment status change in the payments-by-outcome metric once its transaction commits.
 * In the payment's statement (`npm run bench:payments`): a plain listener would make the API's
 * single-statement write a transaction of its own; this one only reads whether the change happened.
 */
@Injectable()
export class CountPaymentStatusListener {
  constructor(
    private readonly afterCommit: AfterCommit,
    private readonly metrics: PaymentMetrics,
  ) {}

  @OnDomainEventInStatement('payment.status_changed')
  count(event: DomainEvent<'payment.status_changed'>, onlyWith: string | undefined): StatementPart[] {
    const status = event.payload.to;
    const count = (manager: EntityManager): void =>
      this.afterCommit.run(manager, () => this.metrics.statusChanged(status));
    // Published on its own, the change has happened: nothing to read.
    if (!onlyWith) return [{ ctes: [], outputs: [], written: count }];
    return [
      {
        ctes: [],
        outputs: [sql`EXISTS (SELECT 1 FROM ${raw(onlyWith)}) AS payments__status_counted`],
        written: (manager, result) => {
          if (result.payments__status_counted === true) count(manager);
        },
      },
    ];
  }
}
