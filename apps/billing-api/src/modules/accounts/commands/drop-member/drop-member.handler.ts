import { rejection } from '@billing/domain';
import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { Clock } from '../../../../platform/clock/clock.js';
import { DomainEvents } from '../../../../platform/events/domain-events.js';
import { ApiError } from '../../../../platform/http/api-error.js';
import { AuditFacade } from '../../../audit/audit.facade.js';
import { memberRemoved } from '../../contracts/account.events.js';
import { AccountMemberOrmEntity } from '../../persistence/account-member.orm-entity.js';

/**
 * Removes a member in the caller's transaction, audited, and publishes `account.member_removed`: their
 * seat is free at once (R-PLAN-3). The owner is never removed (409 `owner_not_removable`: transfer the
 * ownership first); an unknown member is a 404.
 */
@Injectable()
export class DropMemberHandler {
  constructor(
    private readonly clock: Clock,
    private readonly audit: AuditFacade,
    private readonly events: DomainEvents,
  ) {}

  async execute(manager: EntityManager, input: { accountId: string; userId: string }): Promise<void> {
    const repo = manager.getRepository(AccountMemberOrmEntity);
    const row = await repo.findOne({
      where: { accountId: input.accountId, userId: input.userId },
      lock: { mode: 'pessimistic_write' },
    });
    if (!row) throw new ApiError('not_found', 'No such member of the account.');
    if (row.role === 'owner') {
      throw ApiError.fromRejection(
        rejection('owner_not_removable', 'the owner cannot be removed: transfer the ownership first', {
          userId: row.userId,
        }),
      );
    }
    await repo.delete({ accountId: input.accountId, userId: input.userId });
    const memberCount = await repo.count({ where: { accountId: input.accountId } });
    const now = this.clock.now();
    await this.audit.record(
      {
        accountId: input.accountId,
        action: 'account.member_removed',
        entityType: 'account_member',
        entityId: `${input.accountId}:${input.userId}`,
        before: { userId: row.userId, email: row.email, role: row.role },
        after: { memberCount },
      },
      manager,
    );
    await this.events.publish(manager, [
      memberRemoved({
        accountId: input.accountId,
        userId: row.userId,
        memberCount,
        occurredAt: now.toISOString(),
      }),
    ]);
  }
}
