import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { StatementPart } from '../../../platform/database/row-sql.js';
import {
  OnDomainEvent,
  OnDomainEventInStatement,
  type DomainEvent,
} from '../../../platform/events/domain-event.js';
import type { DunningCaseRef } from '../../dunning/contracts/dunning.events.js';
import '../../dunning/contracts/dunning.events.js';
import { NotificationsFacade, type EnqueueNotification } from '../notifications.facade.js';
import type { DunningInvoice } from '../templates/templates.js';

/**
 * The dunning notices (R-DUN-1..4, R-NOT-2), written to the outbox in the transaction that recorded the
 * step: the e-mail each policy step asks for (payment failed 1/2/3, account suspended), and the
 * reactivation e-mail when a case closes paid (R-DUN-4: any successful payment during dunning). All are
 * transactional (always sent, no unsubscribe). One per (template, case): a step run twice, or the
 * suspension announced both by its step and by `dunning.account_suspended`, sends one e-mail.
 */
@Injectable()
export class DunningEmailsListener {
  constructor(private readonly notifications: NotificationsFacade) {}

  /**
   * The step's e-mail as part of the statement that marks the step done (`npm run bench:dunning`: one
   * round trip per step), written only when the step's row was marked (`onlyWith`).
   */
  @OnDomainEventInStatement('dunning.step_ran')
  stepRan(event: DomainEvent<'dunning.step_ran'>, onlyWith: string | undefined): StatementPart[] {
    const e = event.payload;
    if (e.template === null) return [];
    const from = onlyWith ? { cte: onlyWith } : undefined;
    if (e.template === 'account_suspended') {
      return [this.notifications.enqueuePart(suspendedNotice({ ...e, suspendedAt: e.ranAt }), from)];
    }
    return [
      this.notifications.enqueuePart(
        {
          accountId: e.accountId,
          template: e.template,
          dedupeKey: `${e.template}:${e.caseId}`,
          payload: { ...invoiceOf(e), nextStepAt: e.nextStepAt, suspendAt: e.suspendAt },
        },
        from,
      ),
    ];
  }

  @OnDomainEvent('dunning.account_suspended')
  async accountSuspended(
    event: DomainEvent<'dunning.account_suspended'>,
    manager: EntityManager,
  ): Promise<void> {
    await this.suspended(manager, event.payload);
  }

  @OnDomainEvent('dunning.case_closed')
  async caseClosed(event: DomainEvent<'dunning.case_closed'>, manager: EntityManager): Promise<void> {
    const e = event.payload;
    if (e.outcome !== 'paid') return;
    await this.notifications.enqueue(manager, {
      accountId: e.accountId,
      template: 'account_reactivated',
      dedupeKey: `account_reactivated:${e.caseId}`,
      payload: {
        caseId: e.caseId,
        stripeInvoiceId: e.stripeInvoiceId,
        amountPaid: e.amountDue,
        currency: e.currency,
        wasSuspended: e.wasSuspended,
        reactivatedAt: e.closedAt,
      },
    });
  }

  private async suspended(
    manager: EntityManager,
    e: DunningCaseRef & { suspendedAt: string },
  ): Promise<void> {
    await this.notifications.enqueue(manager, suspendedNotice(e));
  }
}

/** The suspension e-mail of a case: one per case, whichever event announces it first. */
function suspendedNotice(
  e: DunningCaseRef & { suspendedAt: string },
): EnqueueNotification<'account_suspended'> {
  return {
    accountId: e.accountId,
    template: 'account_suspended',
    dedupeKey: `account_suspended:${e.caseId}`,
    payload: { ...invoiceOf(e), suspendedAt: e.suspendedAt },
  };
}

/** The invoice part of a dunning e-mail's payload. */
function invoiceOf(e: DunningCaseRef): DunningInvoice {
  return {
    caseId: e.caseId,
    stripeInvoiceId: e.stripeInvoiceId,
    amountDue: e.amountDue,
    currency: e.currency,
    hostedInvoiceUrl: e.hostedInvoiceUrl,
  };
}
