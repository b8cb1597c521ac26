import {
  planChangeInputs,
  rejection,
  transition,
  type BillingInterval,
  type DomainRejection,
  type SubscriptionInput,
} from '@billing/domain';
import { Injectable } from '@nestjs/common';
import { Clock } from '../../../platform/clock/clock.js';
import { ApiError } from '../../../platform/http/api-error.js';
import { AccountsFacade } from '../../accounts/accounts.facade.js';
import { CatalogFacade } from '../../catalog/catalog.facade.js';
import type { SubscriptionOrmEntity } from '../persistence/subscription.orm-entity.js';
import { toSnapshot } from '../persistence/subscription.snapshot.js';
import { PayNowAction } from '../stripe/pay-now.action.js';

type PlanPoint = { planId: string; interval: BillingInterval; seats: number };

/**
 * The machine's verdict on a plan or seat change as the subscription is now, before Stripe is asked
 * (quotes) and again before a quote is applied; nothing is written. The seat rule counts the account's
 * members. Refusals are the API's: an unpaid invoice (past_due, or suspended) is `outstanding_balance`
 * with the pay-now action; while a downgrade is scheduled, a plan change is refused until it applies
 * (Stripe already bills the lower plan), except the current plan again, which withdraws it, and a
 * seats-only change.
 */
@Injectable()
export class PlanChangeCheck {
  constructor(
    private readonly clock: Clock,
    private readonly catalog: CatalogFacade,
    private readonly accounts: AccountsFacade,
    private readonly payNow: PayNowAction,
  ) {}

  /**
   * `memberCount`: the members once the caller's own change is made (a seat change inside the
   * account's seat lock, whose member row is not committed yet); else the account's members now.
   */
  async inputs(
    row: SubscriptionOrmEntity,
    from: PlanPoint,
    to: PlanPoint,
    memberCount?: number,
  ): Promise<SubscriptionInput[]> {
    const keepsPlan = to.planId === row.planId && to.interval === row.interval;
    // The current plan and seats again while a downgrade is scheduled withdraw it (the machine's
    // `plan_change_withdrawn`); another seat count of the current plan keeps it.
    const withdrawal = row.pendingPlanId !== null && keepsPlan && to.seats === row.seats;
    if (row.pendingPlanId && row.pendingEffectiveAt && !keepsPlan) {
      throw new ApiError(
        'invalid_transition',
        `A change to the ${row.pendingPlanId} plan is scheduled for ${row.pendingEffectiveAt.toISOString()}: withdraw it (a quote of the current plan) or change again once it applies.`,
        { details: { pendingPlanId: row.pendingPlanId, effectiveAt: row.pendingEffectiveAt.toISOString() } },
      );
    }
    if (row.state === 'suspended') {
      throw await this.refusal(
        rejection('outstanding_balance', 'pay the outstanding invoice before changing the plan', {
          action: 'pay_outstanding',
        }),
        row,
      );
    }
    memberCount ??= await this.accounts.countMembers(row.accountId);
    const inputs: SubscriptionInput[] = withdrawal
      ? [{ type: 'change_plan', planId: to.planId, interval: to.interval, memberCount }]
      : planChangeInputs(from, to, memberCount);
    let snapshot = toSnapshot(row);
    for (const input of inputs) {
      const result = transition(snapshot, input, this.clock.now(), this.catalog.catalogue());
      if (!result.ok) throw await this.refusal(result.error, row);
      snapshot = result.value.snapshot;
    }
    return inputs;
  }

  private async refusal(refused: DomainRejection, row: SubscriptionOrmEntity): Promise<ApiError> {
    return refused.code === 'outstanding_balance'
      ? this.payNow.outstandingBalance(refused, row.latestInvoiceId)
      : ApiError.fromRejection(refused);
  }
}
