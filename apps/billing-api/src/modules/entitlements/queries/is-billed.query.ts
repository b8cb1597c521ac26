import { isInRollout } from '@billing/domain';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { runStatement } from '../../../platform/database/row-sql.js';
import { AccountsFacade } from '../../accounts/accounts.facade.js';
import type { AccountBillingSwitch } from '../../subscriptions/contracts/account-billing-switch.js';
import { BillingSettingsRepository } from '../persistence/billing-settings.repository.js';

/**
 * Whether billing applies to the account (R-PLAN-5): its own flag on and inside the global rollout, as
 * the verdict decides it. Null when no such account. Read from PostgreSQL, uncached: it guards calls
 * to Stripe. Both values in ONE prepared statement (the accounts' and the rollout's read parts): every
 * `@BillingCall()` route (a payment's creation among them) pays it before its handler, and two
 * queries, each on a pool connection of its own, were part of what a payment cost more than at 639b2b3
 * (`npm run bench:payments`, issue 14's A/B in docs/benchmarks.md).
 */
@Injectable()
export class IsBilledQuery implements AccountBillingSwitch {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly accounts: AccountsFacade,
    private readonly settings: BillingSettingsRepository,
  ) {}

  async execute(accountId: string): Promise<boolean | null> {
    const flagPart = this.accounts.billingFlagPart(accountId);
    const percentPart = this.settings.rolloutPercentPart();
    const result = await runStatement(this.db.manager, [flagPart, percentPart]);
    const flag = flagPart.read(result);
    const percent = percentPart.read(result);
    return flag === null ? null : flag && isInRollout(accountId, percent);
  }
}
