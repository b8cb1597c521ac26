import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { OnDomainEvent, type DomainEvent } from '../../../platform/events/domain-event.js';
import '../../accounts/contracts/account.events.js';
import '../../dunning/contracts/dunning.events.js';
import { SUBSCRIPTION_EVENTS } from '../../subscriptions/contracts/subscription.events.js';
import { AnnounceVerdictHandler } from '../commands/announce-verdict/announce-verdict.handler.js';

type SubscriptionEventType = (typeof SUBSCRIPTION_EVENTS)[number];

/** Every subscription event may change the account's verdict: announce it and drop the cached one. */
@Injectable()
export class RefreshVerdictOnChangeListener {
  constructor(private readonly announce: AnnounceVerdictHandler) {}

  @OnDomainEvent(...SUBSCRIPTION_EVENTS)
  async subscriptionChanged(
    event: DomainEvent<SubscriptionEventType>,
    manager: EntityManager,
  ): Promise<void> {
    const p = event.payload;
    await this.announce.execute(manager, p.accountId, `${p.subscriptionId}:${p.type}:${p.occurredAt}`);
  }

  /** A new default card may add or remove the card-expiring banner. */
  @OnDomainEvent('account.default_payment_method_changed')
  async defaultCardChanged(
    event: DomainEvent<'account.default_payment_method_changed'>,
    manager: EntityManager,
  ): Promise<void> {
    const p = event.payload;
    await this.announce.execute(manager, p.accountId, `default_card:${p.paymentMethodId}:${p.occurredAt}`);
  }

  /**
   * A dunning step ran or a case closed: the verdict's `dunningStage` changed. (A case opening and a
   * suspension come with the subscription's own event in the same transaction, which refreshes it.)
   */
  @OnDomainEvent('dunning.step_ran', 'dunning.case_closed')
  async dunningChanged(
    event: DomainEvent<'dunning.step_ran' | 'dunning.case_closed'>,
    manager: EntityManager,
  ): Promise<void> {
    const p = event.payload;
    const step = event.type === 'dunning.step_ran' ? event.payload.stepId : '';
    await this.announce.execute(manager, p.accountId, `dunning:${p.caseId}:${event.type}:${step}`);
  }
}
