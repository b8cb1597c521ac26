import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { OnDomainEvent, type DomainEvent } from '../../../platform/events/domain-event.js';
import { CatalogFacade } from '../../catalog/catalog.facade.js';
import '../../subscriptions/contracts/subscription.events.js';
import { NotificationsFacade } from '../notifications.facade.js';

/**
 * The subscription's lifecycle e-mails (R-NOT-2), written to the outbox in the transaction that
 * applied the change: trial started, trial ending (Stripe's three-day notice; the reminder scan catches
 * up when it is lost), plan changed (an upgrade, or a downgrade taking effect), subscription canceled.
 * One e-mail per cause: the dedupe key names the template and the subscription (and the change).
 */
@Injectable()
export class SubscriptionEmailsListener {
  constructor(
    private readonly notifications: NotificationsFacade,
    private readonly catalog: CatalogFacade,
  ) {}

  @OnDomainEvent('subscription.trial_started')
  async trialStarted(
    event: DomainEvent<'subscription.trial_started'>,
    manager: EntityManager,
  ): Promise<void> {
    const e = event.payload;
    await this.notifications.enqueue(manager, {
      accountId: e.accountId,
      template: 'trial_started',
      dedupeKey: `trial_started:${e.subscriptionId}`,
      payload: {
        subscriptionId: e.subscriptionId,
        planId: e.planId,
        planName: this.planName(e.planId),
        trialEnd: e.trialEnd,
      },
    });
  }

  @OnDomainEvent('subscription.trial_will_end')
  async trialWillEnd(
    event: DomainEvent<'subscription.trial_will_end'>,
    manager: EntityManager,
  ): Promise<void> {
    const e = event.payload;
    await this.notifications.enqueue(manager, {
      accountId: e.accountId,
      template: 'trial_ending',
      dedupeKey: trialEndingKey(e.subscriptionId),
      payload: {
        subscriptionId: e.subscriptionId,
        planId: e.planId ?? '',
        planName: this.planName(e.planId),
        trialEnd: e.trialEnd,
      },
    });
  }

  @OnDomainEvent('subscription.plan_changed')
  async planChanged(event: DomainEvent<'subscription.plan_changed'>, manager: EntityManager): Promise<void> {
    const e = event.payload;
    await this.notifications.enqueue(manager, {
      accountId: e.accountId,
      template: 'plan_changed',
      dedupeKey: `plan_changed:${e.subscriptionId}:${e.occurredAt}:${e.toPlanId}`,
      payload: {
        subscriptionId: e.subscriptionId,
        fromPlanName: this.planName(e.fromPlanId),
        toPlanName: this.planName(e.toPlanId),
        direction: e.direction,
        effectiveAt: e.occurredAt,
      },
    });
  }

  @OnDomainEvent('subscription.canceled')
  async canceled(event: DomainEvent<'subscription.canceled'>, manager: EntityManager): Promise<void> {
    const e = event.payload;
    await this.notifications.enqueue(manager, {
      accountId: e.accountId,
      template: 'subscription_canceled',
      dedupeKey: `subscription_canceled:${e.subscriptionId}`,
      payload: {
        subscriptionId: e.subscriptionId,
        planName: this.planName(e.planId),
        canceledAt: e.occurredAt,
      },
    });
  }

  /** The plan's name in the catalogue; its id when the catalogue no longer has it. */
  private planName(planId: string | null): string {
    if (!planId) return 'trial';
    return this.catalog.plan(planId)?.name ?? planId;
  }
}

/** One trial-ending reminder per trial (a subscription has at most one trial). */
export const trialEndingKey = (subscriptionId: string): string => `trial_ending:${subscriptionId}`;
