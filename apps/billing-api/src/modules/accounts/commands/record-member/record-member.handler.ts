import { rejection } from '@billing/domain';
import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { Clock } from '../../../../platform/clock/clock.js';
import { DomainEvents } from '../../../../platform/events/domain-events.js';
import { ApiError } from '../../../../platform/http/api-error.js';
import { AuditFacade } from '../../../audit/audit.facade.js';
import { memberAdded } from '../../contracts/account.events.js';
import type { MemberView } from '../../contracts/account.view.js';
import { AccountMemberOrmEntity } from '../../persistence/account-member.orm-entity.js';
import { toMemberView } from '../../persistence/account.mapper.js';

/**
 * Writes a new member (role member) in the caller's transaction, audited, and publishes
 * `account.member_added`. The caller decided that a seat is free (R-PLAN-3) and holds the account's
 * seat lock; a user who is already a member is 409 `member_already_exists`.
 */
@Injectable()
export class RecordMemberHandler {
  constructor(
    private readonly clock: Clock,
    private readonly audit: AuditFacade,
    private readonly events: DomainEvents,
  ) {}

  async execute(
    manager: EntityManager,
    input: { accountId: string; userId: string; email: string },
  ): Promise<MemberView> {
    const now = this.clock.now();
    const repo = manager.getRepository(AccountMemberOrmEntity);
    const row: AccountMemberOrmEntity = {
      accountId: input.accountId,
      userId: input.userId,
      email: input.email.toLowerCase(),
      role: 'member',
      createdAt: now,
    };
    const inserted = await manager
      .createQueryBuilder()
      .insert()
      .into(AccountMemberOrmEntity)
      .values(row)
      .orIgnore()
      .returning('user_id')
      .execute();
    if ((inserted.raw as unknown[]).length === 0) {
      throw ApiError.fromRejection(
        rejection('member_already_exists', 'this user is already a member of the account', {
          userId: input.userId,
        }),
        'userId',
      );
    }
    const memberCount = await repo.count({ where: { accountId: input.accountId } });
    await this.audit.record(
      {
        accountId: input.accountId,
        action: 'account.member_added',
        entityType: 'account_member',
        entityId: `${input.accountId}:${input.userId}`,
        before: null,
        after: { userId: row.userId, email: row.email, role: row.role, memberCount },
      },
      manager,
    );
    await this.events.publish(manager, [
      memberAdded({
        accountId: input.accountId,
        userId: row.userId,
        email: row.email,
        memberCount,
        occurredAt: now.toISOString(),
      }),
    ]);
    return toMemberView(row);
  }
}
