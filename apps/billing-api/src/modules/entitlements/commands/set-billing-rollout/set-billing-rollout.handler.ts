import { rolloutBucket } from '@billing/domain';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { Clock } from '../../../../platform/clock/clock.js';
import { AccountsFacade } from '../../../accounts/accounts.facade.js';
import { AuditFacade } from '../../../audit/audit.facade.js';
import { BillingSettingsRepository } from '../../persistence/billing-settings.repository.js';
import { AnnounceVerdictHandler } from '../announce-verdict/announce-verdict.handler.js';

export interface BillingRolloutResult {
  percent: number;
  previousPercent: number;
  /** Accounts whose flag is on that the change moved into or out of billing. */
  accountsMoved: number;
}

/**
 * Sets the global rollout percentage of billing (R-PLAN-5): an account whose flag is on is billed when
 * its stable bucket (`rolloutBucket`) is below it, so raising the percentage only ever adds accounts.
 * Audited (an operator-wide entry, no account); every cached verdict is invalidated after the commit,
 * and each account it moves in or out of billing (its flag on, its bucket between the two percentages)
 * gets its `entitlements.updated` event, in the same transaction.
 */
@Injectable()
export class SetBillingRolloutHandler {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly settings: BillingSettingsRepository,
    private readonly accounts: AccountsFacade,
    private readonly audit: AuditFacade,
    private readonly announce: AnnounceVerdictHandler,
    private readonly clock: Clock,
  ) {}

  execute(percent: number): Promise<BillingRolloutResult> {
    return this.db.transaction(async (manager) => {
      const previousPercent = await this.settings.setRolloutPercent(manager, percent, this.clock.now());
      let accountsMoved = 0;
      if (previousPercent !== percent) {
        await this.audit.record(
          {
            accountId: null,
            action: 'billing.rollout_changed',
            entityType: 'billing_settings',
            entityId: 'rollout',
            before: { percent: previousPercent },
            after: { percent },
          },
          manager,
        );
        this.announce.invalidateAll(manager);
        const low = Math.min(previousPercent, percent);
        const high = Math.max(previousPercent, percent);
        const cause = `billing_rollout:${randomUUID()}`;
        for (const accountId of await this.accounts.billingFlaggedAccountIds(manager)) {
          const bucket = rolloutBucket(accountId);
          if (bucket < low || bucket >= high) continue;
          await this.announce.execute(manager, accountId, cause, { invalidate: false });
          accountsMoved++;
        }
      }
      return { percent, previousPercent, accountsMoved };
    });
  }
}
