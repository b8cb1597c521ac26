import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { OnDomainEvent, type DomainEvent } from '../../../platform/events/domain-event.js';
import '../../accounts/contracts/account.events.js';
import { ScanRemindersHandler } from '../commands/scan-reminders/scan-reminders.handler.js';

/**
 * A new default card that expires before the next renewal is e-mailed at once (R-DUN-6), instead of at
 * the next scheduled scan; same dedupe key (card, renewal), so the scan sends nothing more.
 */
@Injectable()
export class CardExpiringEmailListener {
  constructor(private readonly reminders: ScanRemindersHandler) {}

  @OnDomainEvent('account.default_payment_method_changed')
  async defaultChanged(
    event: DomainEvent<'account.default_payment_method_changed'>,
    manager: EntityManager,
  ): Promise<void> {
    if (event.payload.paymentMethodId === null) return;
    await this.reminders.cardExpiringOf(manager, event.payload.accountId);
  }
}
