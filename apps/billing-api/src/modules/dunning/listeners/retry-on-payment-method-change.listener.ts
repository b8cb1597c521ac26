import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { AfterCommit } from '../../../platform/database/after-commit.js';
import { OnDomainEvent, type DomainEvent } from '../../../platform/events/domain-event.js';
import { JobQueue } from '../../../platform/queue/job-queue.js';
import type { RetryReason } from '../commands/retry-dunning-payment/retry-dunning-payment.handler.js';
import { DunningCaseOrmEntity } from '../persistence/dunning-case.orm-entity.js';

/**
 * A new default card, or the card networks updating one, retries the account's unpaid invoices at once
 * (R-DUN-4). The retry calls Stripe, so it runs as a job after the commit (job id = the case and the
 * change: one retry per change), never inside the webhook's transaction.
 */
@Injectable()
export class RetryOnPaymentMethodChangeListener {
  constructor(
    private readonly jobs: JobQueue,
    private readonly afterCommit: AfterCommit,
  ) {}

  @OnDomainEvent('account.default_payment_method_changed', 'payment.method_automatically_updated')
  async cardChanged(
    event: DomainEvent<'account.default_payment_method_changed' | 'payment.method_automatically_updated'>,
    manager: EntityManager,
  ): Promise<void> {
    if (event.type === 'account.default_payment_method_changed') {
      const p = event.payload;
      if (!p.paymentMethodId) return;
      await this.retryOpenCases(
        manager,
        p.accountId,
        'default_payment_method_changed',
        p.paymentMethodId,
        p.occurredAt,
      );
    } else {
      const p = event.payload;
      await this.retryOpenCases(
        manager,
        p.accountId,
        'payment_method_automatically_updated',
        p.stripePaymentMethodId,
        p.occurredAt,
      );
    }
  }

  private async retryOpenCases(
    manager: EntityManager,
    accountId: string,
    reason: RetryReason,
    paymentMethodId: string,
    changedAt: string,
  ): Promise<void> {
    const cases = await manager
      .getRepository(DunningCaseOrmEntity)
      .find({ where: { accountId, status: 'open' }, select: { id: true } });
    if (cases.length === 0) return;
    this.afterCommit.run(manager, async () => {
      for (const { id } of cases) {
        await this.jobs.enqueue(
          'dunning.retry-payment',
          { caseId: id, reason, paymentMethodId, changedAt },
          { jobId: `dunning-retry:${id}:${reason}:${paymentMethodId}:${Date.parse(changedAt)}` },
        );
      }
    });
  }
}
