import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { RequestContext } from '../../../platform/context/request-context.js';
import { OnDomainEvent, type DomainEvent } from '../../../platform/events/domain-event.js';
import { CloseDunningCaseHandler } from '../commands/close-dunning-case/close-dunning-case.handler.js';

/**
 * The subscription ended (Stripe canceled it at the end of its own retries, or the owner or an admin
 * canceled it): nothing is left to recover, its open cases close as `subscription_canceled`.
 */
@Injectable()
export class CloseCasesOnSubscriptionEndedListener {
  constructor(private readonly close: CloseDunningCaseHandler) {}

  @OnDomainEvent('subscription.canceled', 'subscription.expired')
  async ended(
    event: DomainEvent<'subscription.canceled' | 'subscription.expired'>,
    manager: EntityManager,
  ): Promise<void> {
    const p = event.payload;
    await this.close.forSubscription(
      manager,
      p.stripeSubscriptionId,
      new Date(p.occurredAt),
      RequestContext.actor(),
    );
  }
}
