import { capturesFirstTime } from '@billing/domain';
import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { StatementPart } from '../../../platform/database/row-sql.js';
import {
  OnDomainEvent,
  OnDomainEventInStatement,
  type DomainEvent,
} from '../../../platform/events/domain-event.js';
import { IssueReceiptHandler } from '../commands/issue-receipt/issue-receipt.handler.js';
import { ReceiptsFacade } from '../receipts.facade.js';

/** A payment captured for the first time gets its receipt and its e-mail (R-PAY-4). */
@Injectable()
export class IssueReceiptOnCaptureListener {
  constructor(
    private readonly issue: IssueReceiptHandler,
    private readonly receipts: ReceiptsFacade,
  ) {}

  /** In the payment's own statement: one round trip on the payment path (`npm run bench:payments`). */
  @OnDomainEventInStatement('payment.status_changed')
  paymentStatusChanged(
    event: DomainEvent<'payment.status_changed'>,
    onlyWith: string | undefined,
  ): StatementPart[] {
    const p = event.payload;
    if (!capturesFirstTime(p.from, p.to)) return [];
    return this.issue.parts(
      {
        paymentId: p.paymentId,
        accountId: p.accountId,
        amount: p.amountReceived,
        currency: p.currency,
        succeededAt: new Date(p.succeededAt ?? p.occurredAt),
        methodBrand: p.cardBrand,
        methodLast4: p.cardLast4,
        description: p.description,
      },
      onlyWith,
    );
  }

  /** A receipt issued before the card was known gets it now (one issued with it is complete). */
  @OnDomainEvent('payment.method_identified')
  async methodIdentified(
    event: DomainEvent<'payment.method_identified'>,
    manager: EntityManager,
  ): Promise<void> {
    const p = event.payload;
    await this.receipts.completeMethod(manager, p.paymentId, p.cardBrand, p.cardLast4);
  }
}
