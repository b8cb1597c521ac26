import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Clock } from '../../../../platform/clock/clock.js';
import { ApiError } from '../../../../platform/http/api-error.js';
import { AuditFacade } from '../../../audit/audit.facade.js';
import type { AccountView } from '../../contracts/account.view.js';
import { AccountOrmEntity } from '../../persistence/account.orm-entity.js';
import { toAccountView } from '../../persistence/account.mapper.js';

export interface UpdateAccountSettingsCommand {
  accountId: string;
  name?: string | undefined;
  billingEmail?: string | undefined;
  locale?: string | undefined;
  timeZone?: string | undefined;
}

const FIELDS = ['name', 'billingEmail', 'locale', 'timeZone'] as const;

/** Changes an account's name, billing email, locale or time zone; records before -> after. */
@Injectable()
export class UpdateAccountSettingsHandler {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly clock: Clock,
    private readonly audit: AuditFacade,
  ) {}

  async execute(command: UpdateAccountSettingsCommand): Promise<AccountView> {
    return this.db.transaction(async (manager) => {
      const repo = manager.getRepository(AccountOrmEntity);
      const row = await repo.findOne({
        where: { id: command.accountId },
        lock: { mode: 'pessimistic_write' },
      });
      if (!row) throw new ApiError('not_found', 'The resource was not found.');
      const wanted = {
        name: command.name?.trim(),
        billingEmail: command.billingEmail?.toLowerCase(),
        locale: command.locale,
        timeZone: command.timeZone,
      };
      const before: Record<string, unknown> = {};
      const after: Record<string, unknown> = {};
      for (const field of FIELDS) {
        const value = wanted[field];
        if (value !== undefined && value !== row[field]) {
          before[field] = row[field];
          after[field] = value;
          row[field] = value;
        }
      }
      if (Object.keys(after).length === 0) return toAccountView(row);
      row.updatedAt = this.clock.now();
      row.version += 1;
      await repo.save(row);
      await this.audit.record(
        {
          accountId: row.id,
          action: 'account.settings_updated',
          entityType: 'account',
          entityId: row.id,
          before,
          after,
        },
        manager,
      );
      return toAccountView(row);
    });
  }
}
