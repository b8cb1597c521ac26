import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { OnDomainEvent, type DomainEvent } from '../../../platform/events/domain-event.js';
import { NotificationsFacade } from '../notifications.facade.js';

/**
 * Billing ownership transfer mails (R-SUB-9), through the outbox: the named member gets the one-time
 * link; once confirmed, the previous owner is told. One mail per transfer and kind.
 */
@Injectable()
export class OwnershipTransferEmailListener {
  constructor(private readonly notifications: NotificationsFacade) {}

  @OnDomainEvent('account.ownership_transfer_requested')
  async transferRequested(
    event: DomainEvent<'account.ownership_transfer_requested'>,
    manager: EntityManager,
  ): Promise<void> {
    const p = event.payload;
    await this.notifications.enqueue(manager, {
      accountId: p.accountId,
      template: 'ownership_transfer_requested',
      recipient: p.toEmail,
      dedupeKey: `ownership_transfer_requested:${p.transferId}`,
      payload: {
        transferId: p.transferId,
        fromUserId: p.fromUserId,
        confirmUrl: p.confirmUrl,
        expiresAt: p.expiresAt,
      },
    });
  }

  @OnDomainEvent('account.ownership_transferred')
  async transferred(
    event: DomainEvent<'account.ownership_transferred'>,
    manager: EntityManager,
  ): Promise<void> {
    const p = event.payload;
    await this.notifications.enqueue(manager, {
      accountId: p.accountId,
      template: 'ownership_transfer',
      recipient: p.fromEmail,
      dedupeKey: `ownership_transfer:${p.transferId}`,
      payload: { previousOwnerEmail: p.fromEmail, newOwnerEmail: p.toEmail, transferredAt: p.occurredAt },
    });
  }
}
