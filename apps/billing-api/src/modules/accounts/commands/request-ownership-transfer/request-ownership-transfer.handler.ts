import { checkOwnershipTransferRequest, ownershipTransferExpiry } from '@billing/domain';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { Clock } from '../../../../platform/clock/clock.js';
import { AppConfig } from '../../../../platform/config/app-config.js';
import { DomainEvents } from '../../../../platform/events/domain-events.js';
import { ApiError } from '../../../../platform/http/api-error.js';
import { AuditFacade } from '../../../audit/audit.facade.js';
import { ownershipTransferRequested } from '../../contracts/account.events.js';
import type { OwnershipTransferView } from '../../contracts/ownership-transfer.view.js';
import { AccountMemberOrmEntity } from '../../persistence/account-member.orm-entity.js';
import { toOwnershipTransferView } from '../../persistence/account.mapper.js';
import { OwnershipTransferOrmEntity } from '../../persistence/ownership-transfer.orm-entity.js';
import { hashTransferToken, newTransferToken } from '../../persistence/ownership-transfer.token.js';

/**
 * The owner names another member as the new billing owner (R-SUB-9). A one-time token is made; only
 * its hash is stored, and the link carrying it goes out in `account.ownership_transfer_requested` (the
 * notifications module e-mails it to the named member). A newer request supersedes a pending one, whose
 * link stops working. Audited. The members' rows are locked so that a concurrent change waits.
 */
@Injectable()
export class RequestOwnershipTransferHandler {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly clock: Clock,
    private readonly config: AppConfig,
    private readonly audit: AuditFacade,
    private readonly events: DomainEvents,
  ) {}

  async execute(input: {
    accountId: string;
    requestedBy: string;
    toUserId: string;
  }): Promise<OwnershipTransferView> {
    return this.db.transaction(async (manager) => {
      const members = await manager.getRepository(AccountMemberOrmEntity).find({
        where: { accountId: input.accountId },
        lock: { mode: 'pessimistic_write' },
      });
      if (members.length === 0) throw new ApiError('not_found', 'The resource was not found.');
      const allowed = checkOwnershipTransferRequest({
        members,
        requestedBy: input.requestedBy,
        toUserId: input.toUserId,
      });
      if (!allowed.ok) throw ApiError.fromRejection(allowed.error, 'toUserId');
      const now = this.clock.now();
      const repo = manager.getRepository(OwnershipTransferOrmEntity);
      const superseded = await repo.find({ where: { accountId: input.accountId, status: 'pending' } });
      if (superseded.length > 0) {
        await repo.update({ accountId: input.accountId, status: 'pending' }, { status: 'superseded' });
      }
      const token = newTransferToken();
      const row: OwnershipTransferOrmEntity = {
        id: randomUUID(),
        accountId: input.accountId,
        fromUserId: allowed.value.fromUserId,
        toUserId: input.toUserId,
        tokenHash: hashTransferToken(token),
        status: 'pending',
        expiresAt: ownershipTransferExpiry(now),
        confirmedAt: null,
        createdAt: now,
      };
      await repo.insert(row);
      await this.audit.record(
        {
          accountId: input.accountId,
          action: 'account.ownership_transfer_requested',
          entityType: 'ownership_transfer',
          entityId: row.id,
          before: { owner: row.fromUserId, supersededTransfers: superseded.map((s) => s.id) },
          after: {
            owner: row.fromUserId,
            proposedOwner: row.toUserId,
            expiresAt: row.expiresAt.toISOString(),
          },
        },
        manager,
      );
      const to = members.find((m) => m.userId === input.toUserId)!;
      const url = new URL(this.config.ownership.confirmUrl);
      url.searchParams.set('token', token);
      await this.events.publish(manager, [
        ownershipTransferRequested({
          transferId: row.id,
          accountId: row.accountId,
          fromUserId: row.fromUserId,
          toUserId: row.toUserId,
          toEmail: to.email,
          expiresAt: row.expiresAt.toISOString(),
          confirmUrl: url.toString(),
          occurredAt: now.toISOString(),
        }),
      ]);
      return toOwnershipTransferView(row);
    });
  }
}
