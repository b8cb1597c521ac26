import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { OnDomainEvent, type DomainEvent } from '../../../platform/events/domain-event.js';
import { AnnounceVerdictHandler } from '../commands/announce-verdict/announce-verdict.handler.js';

/** A member joining or leaving changes the seats used of the verdict: announce it, drop the cached one. */
@Injectable()
export class RefreshVerdictOnMembersListener {
  constructor(private readonly announce: AnnounceVerdictHandler) {}

  @OnDomainEvent('account.member_added', 'account.member_removed')
  async membersChanged(
    event: DomainEvent<'account.member_added' | 'account.member_removed'>,
    manager: EntityManager,
  ): Promise<void> {
    const p = event.payload;
    await this.announce.execute(manager, p.accountId, `members:${p.userId}:${event.type}:${p.occurredAt}`);
  }
}
