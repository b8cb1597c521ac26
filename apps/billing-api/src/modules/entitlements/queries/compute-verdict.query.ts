import {
  deriveEntitlements,
  isInRollout,
  isLiveState,
  type Catalogue,
  type Entitlements,
} from '@billing/domain';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { Clock } from '../../../platform/clock/clock.js';
import { join, queryRows, sql, type ReadPart } from '../../../platform/database/row-sql.js';
import { AccountsFacade } from '../../accounts/accounts.facade.js';
import { CatalogFacade } from '../../catalog/catalog.facade.js';
import { NotificationsFacade, type ExpiringDefaultCard } from '../../notifications/notifications.facade.js';
import type { DunningStage } from '../../dunning/contracts/dunning-case.view.js';
import { DunningFacade } from '../../dunning/dunning.facade.js';
import type { SubscriptionView } from '../../subscriptions/contracts/subscription.view.js';
import { SubscriptionsFacade } from '../../subscriptions/subscriptions.facade.js';
import type { EntitlementVerdict, VerdictReason } from '../contracts/entitlement-verdict.js';
import { BillingSettingsRepository } from '../persistence/billing-settings.repository.js';

/** The read parts a verdict is made of, each module's. */
interface VerdictParts {
  flag: ReadPart<boolean | null>;
  percent: ReadPart<number>;
  subscription: ReadPart<SubscriptionView | null>;
  awaitingMirror: ReadPart<boolean>;
  used: ReadPart<number>;
  card: ReadPart<ExpiringDefaultCard | null>;
  dunningStage: ReadPart<DunningStage | null>;
}

/**
 * Computes an account's verdict from the database, with `deriveEntitlements` deciding: the account's
 * flag and the rollout, its deciding subscription, a completed Checkout not mirrored yet, its seats.
 * Pass the manager of a transaction to see its uncommitted changes (the listeners do). Null when no
 * such account.
 */
@Injectable()
export class ComputeVerdictQuery {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly accounts: AccountsFacade,
    private readonly subscriptions: SubscriptionsFacade,
    private readonly catalog: CatalogFacade,
    private readonly settings: BillingSettingsRepository,
    private readonly clock: Clock,
    private readonly notifications: NotificationsFacade,
    private readonly dunning: DunningFacade,
  ) {}

  async execute(
    accountId: string,
    manager: EntityManager = this.db.manager,
  ): Promise<EntitlementVerdict | null> {
    return (await this.executeMany([accountId], manager)).get(accountId) ?? null;
  }

  /**
   * The verdicts of several accounts (a webhook batch's, announced before its commit), in ONE statement:
   * every module's read part once per account, the account named by the row of `unnest` it is read for.
   * An account that does not exist maps to null.
   */
  async executeMany(
    accountIds: readonly string[],
    manager: EntityManager = this.db.manager,
  ): Promise<Map<string, EntitlementVerdict | null>> {
    const verdicts = new Map<string, EntitlementVerdict | null>();
    if (accountIds.length === 0) return verdicts;
    const account = sql`verdict_account.id`;
    const parts: VerdictParts = {
      flag: this.accounts.billingFlagPart(account),
      percent: this.settings.rolloutPercentPart(),
      subscription: this.subscriptions.currentForAccountPart(account, manager),
      awaitingMirror: this.subscriptions.checkoutAwaitingMirrorPart(account),
      used: this.accounts.countMembersPart(account),
      card: this.notifications.expiringDefaultCardPart(account),
      dunningStage: this.dunning.stagePart(account, manager),
    };
    const outputs = (Object.values(parts) as ReadPart<unknown>[]).flatMap((part) => part.outputs);
    const rows = await queryRows<Record<string, unknown>>(
      manager,
      sql`SELECT verdict_account.id::text AS verdict_account_id, ${join(outputs)}
            FROM unnest(${[...new Set(accountIds)]}::uuid[]) AS verdict_account(id)`,
    );
    for (const row of rows) {
      const id = row.verdict_account_id as string;
      verdicts.set(id, this.verdictOf(id, parts, row));
    }
    return verdicts;
  }

  /** One account's verdict from its row of the inputs' statement. */
  private verdictOf(
    accountId: string,
    parts: VerdictParts,
    result: Record<string, unknown>,
  ): EntitlementVerdict | null {
    const flag = parts.flag.read(result);
    if (flag === null) return null;
    const percent = parts.percent.read(result);
    const subscription = parts.subscription.read(result);
    const awaitingMirror = parts.awaitingMirror.read(result);
    const used = parts.used.read(result);
    const card = parts.card.read(result);
    const dunningStage = parts.dunningStage.read(result);
    const enabled = flag && isInRollout(accountId, percent);
    const billing = { enabled, accountFlag: flag, rolloutPercent: percent };
    const catalogue = this.catalog.catalogue();
    const now = this.clock.now();
    if (enabled && awaitingMirror && (subscription === null || !isLiveState(subscription.state))) {
      return failOpenVerdict(catalogue, accountId, 'checkout_not_mirrored', { billing, used });
    }
    const derived = deriveEntitlements({
      catalogue,
      planId: subscription?.planId ?? 'free',
      state: subscription ? subscription.state : 'free',
      purchasedSeats: subscription?.seats ?? 0,
      flags: { billingEnabled: enabled },
      now,
      ...dates(subscription),
    });
    const banners: Entitlements['banners'] =
      card && derived.basis === 'subscription'
        ? [
            ...derived.banners,
            {
              kind: 'card_expiring',
              at: card.renewalAt,
              brand: card.brand,
              last4: card.last4,
              expMonth: card.expMonth,
              expYear: card.expYear,
            },
          ]
        : derived.banners;
    return {
      ...fromDerived(accountId, { ...derived, banners }, used),
      reason: reasonOf(derived, flag, subscription),
      state: subscription?.state ?? null,
      dunningStage: derived.basis === 'subscription' ? dunningStage : null,
      billing,
      nextChange: derived.basis === 'subscription' ? nextChange(subscription, now) : null,
    };
  }
}

function dates(s: SubscriptionView | null): {
  currentPeriodEnd?: Date;
  trialEnd?: Date;
  pastDueSince?: Date;
  pendingPlanChange?: { planId: string; interval: 'month' | 'year'; effectiveAt: Date };
} {
  if (!s) return {};
  return {
    ...(s.currentPeriodEnd ? { currentPeriodEnd: new Date(s.currentPeriodEnd) } : {}),
    ...(s.trialEnd ? { trialEnd: new Date(s.trialEnd) } : {}),
    ...(s.pastDueSince ? { pastDueSince: new Date(s.pastDueSince) } : {}),
    ...(s.pendingPlanChange
      ? {
          pendingPlanChange: {
            planId: s.pendingPlanChange.planId,
            interval: s.pendingPlanChange.interval,
            effectiveAt: new Date(s.pendingPlanChange.effectiveAt),
          },
        }
      : {}),
  };
}

function fromDerived(
  accountId: string,
  d: Entitlements,
  used: number | null,
): Pick<
  EntitlementVerdict,
  'accountId' | 'tier' | 'features' | 'limits' | 'accessMode' | 'banners' | 'basis' | 'dunningStage'
> {
  return {
    accountId,
    tier: d.tier,
    features: [...d.features].sort(),
    limits: { seats: { total: d.seatLimit, used } },
    accessMode: d.accessMode,
    banners: d.banners,
    basis: d.basis,
    dunningStage: null,
  };
}

function reasonOf(d: Entitlements, flag: boolean, s: SubscriptionView | null): VerdictReason {
  switch (d.basis) {
    case 'billing_disabled':
      return flag ? 'outside_rollout' : 'billing_flag_off';
    case 'fail_open':
      return 'state_uncertain';
    case 'subscription':
      return s === null ? 'no_subscription' : 'subscription_state';
  }
}

/** The next change the verdict will see: a trial's end, a scheduled downgrade, a scheduled cancellation. */
function nextChange(s: SubscriptionView | null, now: Date): EntitlementVerdict['nextChange'] {
  if (!s) return null;
  const future = (iso: string | null): iso is string =>
    iso !== null && new Date(iso).getTime() > now.getTime();
  const pending = s.pendingPlanChange;
  const cancelAt = s.cancelAt ?? (s.cancelAtPeriodEnd ? s.currentPeriodEnd : null);
  const candidates: NonNullable<EntitlementVerdict['nextChange']>[] = [];
  if (s.state === 'trialing' && future(s.trialEnd)) {
    candidates.push({ kind: 'trial_end', at: new Date(s.trialEnd).toISOString(), planId: null });
  }
  if ((s.state === 'canceled_pending' || s.cancelAtPeriodEnd) && future(cancelAt)) {
    candidates.push({ kind: 'cancellation', at: new Date(cancelAt).toISOString(), planId: 'free' });
  }
  if (pending && future(pending.effectiveAt)) {
    candidates.push({
      kind: 'downgrade',
      at: new Date(pending.effectiveAt).toISOString(),
      planId: pending.planId,
    });
  }
  candidates.sort((a, b) => a.at.localeCompare(b.at));
  return candidates[0] ?? null;
}

/**
 * Access granted because the state is uncertain (R-CORE-5): what `deriveEntitlements` answers for an
 * unknown state, with the reason.
 */
export function failOpenVerdict(
  catalogue: Catalogue,
  accountId: string,
  reason: Extract<VerdictReason, 'checkout_not_mirrored' | 'state_unavailable'>,
  known: { billing?: EntitlementVerdict['billing']; used?: number | null } = {},
): EntitlementVerdict {
  const derived = deriveEntitlements({
    catalogue,
    planId: 'free',
    state: null,
    purchasedSeats: 0,
    flags: { billingEnabled: true },
    now: new Date(0), // not read for an unknown state
  });
  return {
    ...fromDerived(accountId, derived, known.used ?? null),
    reason,
    state: null,
    billing: known.billing ?? { enabled: null, accountFlag: null, rolloutPercent: null },
    nextChange: null,
  };
}
