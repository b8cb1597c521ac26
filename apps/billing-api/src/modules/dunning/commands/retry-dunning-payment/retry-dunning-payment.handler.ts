import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { Actor } from '../../../../platform/context/request-context.js';
import { AccountsFacade } from '../../../accounts/accounts.facade.js';
import { AuditFacade } from '../../../audit/audit.facade.js';
import { SubscriptionsFacade } from '../../../subscriptions/subscriptions.facade.js';
import { DunningCaseOrmEntity } from '../../persistence/dunning-case.orm-entity.js';
import { DunningTimeRepository } from '../../persistence/dunning-time.repository.js';
import { InvoiceRetrier, type RetryOutcome } from '../../stripe/invoice-retrier.js';
import { CloseDunningCaseHandler } from '../close-dunning-case/close-dunning-case.handler.js';

/** Why a case is retried outside its schedule. */
export type RetryReason = 'default_payment_method_changed' | 'payment_method_automatically_updated';

/**
 * Retries an open case's invoice at once because the card changed (R-DUN-4): a new default method, or
 * the card networks updated the default card. The attempt's idempotency key names the change (method
 * and time), so one change retries once. A success closes the case (paid, back to active); a decline
 * counts an attempt on the subscription; the schedule goes on either way. An automatic update of a card
 * that is not the default retries nothing (`invoices.pay` would charge the default).
 */
@Injectable()
export class RetryDunningPaymentHandler {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly accounts: AccountsFacade,
    private readonly retrier: InvoiceRetrier,
    private readonly time: DunningTimeRepository,
    private readonly subscriptions: SubscriptionsFacade,
    private readonly close: CloseDunningCaseHandler,
    private readonly audit: AuditFacade,
  ) {}

  async execute(input: {
    caseId: string;
    reason: RetryReason;
    paymentMethodId: string;
    changedAt: string;
  }): Promise<RetryOutcome | 'closed' | 'not_default'> {
    return this.db.transaction(async (manager) => {
      const row = await manager
        .getRepository(DunningCaseOrmEntity)
        .findOne({ where: { id: input.caseId }, lock: { mode: 'pessimistic_write' } });
      if (!row || row.status !== 'open') return 'closed';
      if ((await this.accounts.defaultPaymentMethodId(row.accountId)) !== input.paymentMethodId) {
        return 'not_default';
      }
      const now = await this.time.now(manager, row.testClockId);
      const actor: Actor = { type: 'system', id: `dunning:${row.id}:${input.reason}` };
      const outcome = await this.retrier.retry(
        row.stripeInvoiceId,
        `${input.reason}:${input.paymentMethodId}:${input.changedAt}`,
      );
      await this.audit.record(
        {
          accountId: row.accountId,
          action: 'dunning.payment_retried',
          entityType: 'dunning_case',
          entityId: row.id,
          before: null,
          after: { outcome, paymentMethodId: input.paymentMethodId },
          reason: input.reason,
          actor,
        },
        manager,
      );
      if (outcome === 'succeeded') await this.close.close(manager, row, 'paid', now, actor);
      else if (row.stripeSubscriptionId) {
        await this.subscriptions.applyDunningInput(
          manager,
          row.stripeSubscriptionId,
          { type: 'payment_failed', at: now },
          actor,
        );
      }
      return outcome;
    });
  }
}
