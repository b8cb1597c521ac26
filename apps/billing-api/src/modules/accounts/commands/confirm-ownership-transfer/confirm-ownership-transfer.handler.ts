import { checkOwnershipConfirmation } from '@billing/domain';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, In } from 'typeorm';
import { Clock } from '../../../../platform/clock/clock.js';
import { DomainEvents } from '../../../../platform/events/domain-events.js';
import { ApiError } from '../../../../platform/http/api-error.js';
import { AuditFacade } from '../../../audit/audit.facade.js';
import { ownershipTransferred } from '../../contracts/account.events.js';
import type { OwnershipTransferView } from '../../contracts/ownership-transfer.view.js';
import { AccountMemberOrmEntity } from '../../persistence/account-member.orm-entity.js';
import { toOwnershipTransferView } from '../../persistence/account.mapper.js';
import { OwnershipTransferOrmEntity } from '../../persistence/ownership-transfer.orm-entity.js';
import { hashTransferToken } from '../../persistence/ownership-transfer.token.js';

/**
 * The named member confirms a billing ownership transfer with the e-mailed one-time token (R-SUB-9):
 * single use, 48 hours, only by that member (`checkOwnershipConfirmation`). The roles swap in one
 * transaction (the old owner is demoted first: one owner per account is a unique index), the transfer is
 * marked confirmed, the change audited with before and after, and `account.ownership_transferred`
 * published (the old owner is e-mailed). A token that matches no transfer, or a transfer of another
 * account than the caller's, is a 404.
 */
@Injectable()
export class ConfirmOwnershipTransferHandler {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly clock: Clock,
    private readonly audit: AuditFacade,
    private readonly events: DomainEvents,
  ) {}

  async execute(input: {
    token: string;
    userId: string;
    /** The caller's account (null for a token without one): another account's transfer is a 404. */
    accountId: string | null;
  }): Promise<OwnershipTransferView> {
    return this.db.transaction(async (manager) => {
      const transfers = manager.getRepository(OwnershipTransferOrmEntity);
      const transfer = await transfers.findOne({
        where: { tokenHash: hashTransferToken(input.token) },
        lock: { mode: 'pessimistic_write' },
      });
      if (!transfer || transfer.accountId !== input.accountId) {
        throw new ApiError('not_found', 'No ownership transfer has this token.', { param: 'token' });
      }
      const memberRepo = manager.getRepository(AccountMemberOrmEntity);
      const members = await memberRepo.find({
        where: { accountId: transfer.accountId, userId: In([transfer.fromUserId, transfer.toUserId]) },
        lock: { mode: 'pessimistic_write' },
      });
      const now = this.clock.now();
      const allowed = checkOwnershipConfirmation({ transfer, userId: input.userId, members, now });
      if (!allowed.ok) throw ApiError.fromRejection(allowed.error, 'token');
      const roles = () => Object.fromEntries(members.map((m) => [m.userId, m.role]));
      const before = roles();
      // Demote first, then promote: the one-owner unique index is checked row by row.
      await memberRepo.update(
        { accountId: transfer.accountId, userId: transfer.fromUserId },
        { role: 'member' },
      );
      await memberRepo.update(
        { accountId: transfer.accountId, userId: transfer.toUserId },
        { role: 'owner' },
      );
      for (const m of members) m.role = m.userId === transfer.toUserId ? 'owner' : 'member';
      transfer.status = 'confirmed';
      transfer.confirmedAt = now;
      await transfers.update({ id: transfer.id }, { status: 'confirmed', confirmedAt: now });
      await this.audit.record(
        {
          accountId: transfer.accountId,
          action: 'account.ownership_transferred',
          entityType: 'ownership_transfer',
          entityId: transfer.id,
          before: { owner: transfer.fromUserId, roles: before },
          after: { owner: transfer.toUserId, roles: roles() },
        },
        manager,
      );
      const email = (userId: string) => members.find((m) => m.userId === userId)?.email ?? '';
      await this.events.publish(manager, [
        ownershipTransferred({
          transferId: transfer.id,
          accountId: transfer.accountId,
          fromUserId: transfer.fromUserId,
          fromEmail: email(transfer.fromUserId),
          toUserId: transfer.toUserId,
          toEmail: email(transfer.toUserId),
          occurredAt: now.toISOString(),
        }),
      ]);
      return toOwnershipTransferView(transfer);
    });
  }
}
