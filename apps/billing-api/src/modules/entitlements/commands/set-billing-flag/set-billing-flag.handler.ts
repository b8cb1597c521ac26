import { isInRollout } from '@billing/domain';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { Clock } from '../../../../platform/clock/clock.js';
import { ApiError } from '../../../../platform/http/api-error.js';
import { AccountsFacade } from '../../../accounts/accounts.facade.js';
import { AuditFacade } from '../../../audit/audit.facade.js';
import { BillingSettingsRepository } from '../../persistence/billing-settings.repository.js';
import { AnnounceVerdictHandler } from '../announce-verdict/announce-verdict.handler.js';

export interface BillingFlagResult {
  accountId: string;
  billingEnabled: boolean;
  rolloutPercent: number;
  inRollout: boolean;
  billed: boolean;
}

/**
 * Turns billing on or off for one account (R-PLAN-5): audited, the new verdict announced and the cached
 * one invalidated after the commit. Setting the flag it already has changes, audits and announces
 * nothing. 404 when no such account.
 */
@Injectable()
export class SetBillingFlagHandler {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly accounts: AccountsFacade,
    private readonly settings: BillingSettingsRepository,
    private readonly audit: AuditFacade,
    private readonly announce: AnnounceVerdictHandler,
    private readonly clock: Clock,
  ) {}

  execute(accountId: string, billingEnabled: boolean): Promise<BillingFlagResult> {
    return this.db.transaction(async (manager) => {
      const before = await this.accounts.setBillingFlag(manager, accountId, billingEnabled, this.clock.now());
      if (before === null) throw new ApiError('not_found', 'The resource was not found.');
      const percent = await this.settings.rolloutPercent(manager);
      if (before !== billingEnabled) {
        await this.audit.record(
          {
            accountId,
            action: billingEnabled ? 'account.billing_enabled' : 'account.billing_disabled',
            entityType: 'account',
            entityId: accountId,
            before: { billingEnabled: before },
            after: { billingEnabled },
          },
          manager,
        );
        await this.announce.execute(manager, accountId, `billing_flag:${randomUUID()}`);
      }
      const inRollout = isInRollout(accountId, percent);
      return {
        accountId,
        billingEnabled,
        rolloutPercent: percent,
        inRollout,
        billed: billingEnabled && inRollout,
      };
    });
  }
}
