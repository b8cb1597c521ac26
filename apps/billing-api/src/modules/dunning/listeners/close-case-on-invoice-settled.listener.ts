import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { RequestContext } from '../../../platform/context/request-context.js';
import { OnDomainEvent, type DomainEvent } from '../../../platform/events/domain-event.js';
import { CloseDunningCaseHandler } from '../commands/close-dunning-case/close-dunning-case.handler.js';

/**
 * The invoice was paid however it was (a retry, pay-outstanding, a new card, Stripe's own attempt),
 * voided or marked uncollectible: its case closes.
 */
@Injectable()
export class CloseCaseOnInvoiceSettledListener {
  constructor(private readonly close: CloseDunningCaseHandler) {}

  @OnDomainEvent('invoice.settled')
  async settled(event: DomainEvent<'invoice.settled'>, manager: EntityManager): Promise<void> {
    const p = event.payload;
    await this.close.forInvoice(
      manager,
      p.stripeInvoiceId,
      p.outcome,
      new Date(p.settledAt),
      RequestContext.actor(),
    );
  }
}
