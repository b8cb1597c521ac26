import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { RequestContext } from '../../../platform/context/request-context.js';
import { OnDomainEvent, type DomainEvent } from '../../../platform/events/domain-event.js';
import { OpenDunningCaseHandler } from '../commands/open-dunning-case/open-dunning-case.handler.js';

/**
 * A failed attempt on an open invoice opens its dunning case (once per invoice). A subscription's first
 * invoice is not dunned: the subscription never started (Stripe leaves it `incomplete`).
 */
@Injectable()
export class OpenCaseOnPaymentFailedListener {
  constructor(private readonly open: OpenDunningCaseHandler) {}

  @OnDomainEvent('invoice.payment_failed')
  async paymentFailed(event: DomainEvent<'invoice.payment_failed'>, manager: EntityManager): Promise<void> {
    if (event.payload.billingReason === 'subscription_create') return;
    await this.open.execute(manager, event.payload, RequestContext.actor());
  }
}
