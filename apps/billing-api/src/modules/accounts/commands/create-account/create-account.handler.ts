import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { Clock } from '../../../../platform/clock/clock.js';
import { AuditFacade } from '../../../audit/audit.facade.js';
import type { AccountView } from '../../contracts/account.view.js';
import { AccountMemberOrmEntity } from '../../persistence/account-member.orm-entity.js';
import { AccountOrmEntity } from '../../persistence/account.orm-entity.js';
import { toAccountView } from '../../persistence/account.mapper.js';

export interface CreateAccountCommand {
  name: string;
  billingEmail: string;
  locale?: string | undefined;
  timeZone?: string | undefined;
  owner: { userId: string; email: string };
}

/** Creates an account with its billing owner, audited, in one transaction. */
@Injectable()
export class CreateAccountHandler {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly clock: Clock,
    private readonly audit: AuditFacade,
  ) {}

  async execute(command: CreateAccountCommand): Promise<AccountView> {
    const now = this.clock.now();
    const account: AccountOrmEntity = {
      id: randomUUID(),
      name: command.name.trim(),
      billingEmail: command.billingEmail.toLowerCase(),
      locale: command.locale ?? 'en-US',
      timeZone: command.timeZone ?? 'UTC',
      stripeCustomerId: null,
      billingEnabled: true,
      version: 1,
      createdAt: now,
      updatedAt: now,
    };
    await this.db.transaction(async (manager) => {
      await manager.getRepository(AccountOrmEntity).insert(account);
      await manager.getRepository(AccountMemberOrmEntity).insert({
        accountId: account.id,
        userId: command.owner.userId,
        email: command.owner.email.toLowerCase(),
        role: 'owner',
        createdAt: now,
      });
      await this.audit.record(
        {
          accountId: account.id,
          action: 'account.created',
          entityType: 'account',
          entityId: account.id,
          after: {
            name: account.name,
            locale: account.locale,
            timeZone: account.timeZone,
            owner: command.owner.userId,
          },
        },
        manager,
      );
    });
    return toAccountView(account);
  }
}
