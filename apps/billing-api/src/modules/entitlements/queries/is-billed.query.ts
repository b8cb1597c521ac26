import { isInRollout } from '@billing/domain';
import { Injectable } from '@nestjs/common';
import { AccountsFacade } from '../../accounts/accounts.facade.js';
import type { AccountBillingSwitch } from '../../subscriptions/contracts/account-billing-switch.js';
import { BillingSettingsRepository } from '../persistence/billing-settings.repository.js';

/**
 * Whether billing applies to the account (R-PLAN-5): its own flag on and inside the global rollout, as
 * the verdict decides it. Null when no such account. Read from PostgreSQL, uncached: it guards calls
 * to Stripe, which cost more than the two reads.
 */
@Injectable()
export class IsBilledQuery implements AccountBillingSwitch {
  constructor(
    private readonly accounts: AccountsFacade,
    private readonly settings: BillingSettingsRepository,
  ) {}

  async execute(accountId: string): Promise<boolean | null> {
    const [flag, percent] = await Promise.all([
      this.accounts.billingFlag(accountId),
      this.settings.rolloutPercent(),
    ]);
    return flag === null ? null : flag && isInRollout(accountId, percent);
  }
}
