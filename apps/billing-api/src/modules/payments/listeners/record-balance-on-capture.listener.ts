import { isCaptured } from '@billing/domain';
import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { AfterCommit } from '../../../platform/database/after-commit.js';
import { raw, sql, type StatementPart } from '../../../platform/database/row-sql.js';
import { OnDomainEventInStatement, type DomainEvent } from '../../../platform/events/domain-event.js';
import { JobQueue } from '../../../platform/queue/job-queue.js';

/**
 * A payment captured (whichever path wrote it: the API's answer, a webhook, the janitor) without its fee:
 * its fee and net are read from Stripe once the capture commits (`payments.record-balance`,
 * RecordPaymentBalanceHandler). The API asks for the charge's balance transaction with the payment, so
 * its own card captures come with the fee and need no job; payments made outside it, asynchronous
 * methods and replayed answers without it do.
 * In the payment's statement (`npm run bench:payments`), like CountPaymentStatusListener.
 */
@Injectable()
export class RecordBalanceOnCaptureListener {
  constructor(
    private readonly afterCommit: AfterCommit,
    private readonly jobs: JobQueue,
  ) {}

  @OnDomainEventInStatement('payment.status_changed')
  schedule(event: DomainEvent<'payment.status_changed'>, onlyWith: string | undefined): StatementPart[] {
    const { paymentId, to, feeRecorded } = event.payload;
    // A capture whose answer carried the fee (the API's own payments) has it recorded already.
    if (!isCaptured(to) || feeRecorded) return [];
    const enqueue = (manager: EntityManager): void =>
      this.afterCommit.run(manager, () =>
        this.jobs.enqueue(
          'payments.record-balance',
          { paymentId },
          { jobId: `payment-balance:${paymentId}` },
        ),
      );
    // Published on its own, the change has happened: nothing to read.
    if (!onlyWith) return [{ ctes: [], outputs: [], written: enqueue }];
    return [
      {
        ctes: [],
        outputs: [sql`EXISTS (SELECT 1 FROM ${raw(onlyWith)}) AS payments__balance_due`],
        written: (manager, result) => {
          if (result.payments__balance_due === true) enqueue(manager);
        },
      },
    ];
  }
}
