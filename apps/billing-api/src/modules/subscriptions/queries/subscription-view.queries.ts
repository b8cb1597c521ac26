import {
  deriveEntitlements,
  findPlan,
  isLiveState,
  seatTotal,
  type EntitlementBanner,
} from '@billing/domain';
import { Injectable } from '@nestjs/common';
import { Clock } from '../../../platform/clock/clock.js';
import { AccountsFacade } from '../../accounts/accounts.facade.js';
import { CatalogFacade } from '../../catalog/catalog.facade.js';
import { PaymentsFacade } from '../../payments/payments.facade.js';
import type { SubscriptionView } from '../contracts/subscription.view.js';
import { SubscriptionsFacade } from '../subscriptions.facade.js';

/** The plan an account is on, by id and name. */
export interface PlanRef {
  id: string;
  name: string;
}

/** What an account owner sees of the subscription (R-SUB-8): everything, the card as brand + last 4. */
export interface OwnerSubscriptionView {
  view: 'owner';
  plan: PlanRef;
  interval: string | null;
  state: string;
  /** When the subscription renews (null: it does not, e.g. canceled at period end, or Free). */
  renewsAt: string | null;
  /** When a canceled subscription ends, or a trial ends. */
  endsAt: string | null;
  trialEndsAt: string | null;
  seats: { used: number; included: number; purchased: number; total: number };
  card: { brand: string | null; last4: string | null } | null;
  /** Stripe's customer balance in minor units (negative: credit for the next invoices). */
  creditBalance: number;
  banners: EntitlementBanner[];
  pendingDowngrade: { planId: string; interval: string; effectiveAt: string } | null;
}

/** What a member sees: the tier and the renewal date, nothing else. */
export interface MemberSubscriptionView {
  view: 'member';
  plan: PlanRef;
  renewsAt: string | null;
}

/** What finance and support see: billing status and plan, never card details or secrets. */
export interface InternalSubscriptionView {
  view: 'internal';
  accountId: string;
  plan: PlanRef;
  interval: string | null;
  state: string;
  stripeStatus: string | null;
  stripeSubscriptionId: string | null;
  currentPeriodEnd: string | null;
  cancelAtPeriodEnd: boolean;
  pastDueSince: string | null;
  seats: { purchased: number };
  banners: EntitlementBanner[];
}

/**
 * The account's subscription as each role may see it (R-SUB-8), with plan names and included seats
 * from the configured catalogue.
 */
@Injectable()
export class SubscriptionViewQueries {
  constructor(
    private readonly clock: Clock,
    private readonly subscriptions: SubscriptionsFacade,
    private readonly accounts: AccountsFacade,
    private readonly payments: PaymentsFacade,
    private readonly catalog: CatalogFacade,
  ) {}

  async forOwner(accountId: string): Promise<OwnerSubscriptionView> {
    const sub = await this.subscriptions.currentForAccount(accountId);
    const [members, methodId, balance] = await Promise.all([
      this.accounts.listMembers(accountId),
      this.accounts.defaultPaymentMethodId(accountId),
      this.accounts.stripeCustomerBalance(accountId),
    ]);
    const methods = methodId ? await this.payments.listPaymentMethods(accountId) : [];
    const card = methods.find((m) => m.stripePaymentMethodId === methodId);
    const plan = this.planOf(sub);
    const purchased = sub && isLiveState(sub.state) ? sub.seats : 0;
    const definition = findPlan(this.catalog.catalogue(), plan.id);
    const included = definition.ok ? seatTotal(definition.value, 0) : 1;
    return {
      view: 'owner',
      plan,
      interval: sub && isLiveState(sub.state) ? sub.interval : null,
      state: sub?.state ?? 'free',
      renewsAt: this.renewsAt(sub),
      endsAt: sub?.state === 'canceled_pending' ? sub.currentPeriodEnd : null,
      trialEndsAt: sub?.state === 'trialing' ? sub.trialEnd : null,
      seats: { used: members.length, included, purchased, total: included + purchased },
      card: card ? { brand: card.brand, last4: card.last4 } : null,
      creditBalance: balance?.balance ?? 0,
      banners: this.banners(sub),
      pendingDowngrade:
        sub?.pendingPlanChange && isLiveState(sub.state)
          ? {
              planId: sub.pendingPlanChange.planId,
              interval: sub.pendingPlanChange.interval,
              effectiveAt: sub.pendingPlanChange.effectiveAt,
            }
          : null,
    };
  }

  async forMember(accountId: string): Promise<MemberSubscriptionView> {
    const sub = await this.subscriptions.currentForAccount(accountId);
    return { view: 'member', plan: this.planOf(sub), renewsAt: this.renewsAt(sub) };
  }

  async forInternal(accountId: string): Promise<InternalSubscriptionView> {
    const sub = await this.subscriptions.currentForAccount(accountId);
    const live = sub !== null && isLiveState(sub.state);
    return {
      view: 'internal',
      accountId,
      plan: this.planOf(sub),
      interval: live ? sub.interval : null,
      state: sub?.state ?? 'free',
      stripeStatus: sub?.stripeStatus ?? null,
      stripeSubscriptionId: sub?.stripeSubscriptionId ?? null,
      currentPeriodEnd: sub?.currentPeriodEnd ?? null,
      cancelAtPeriodEnd: sub?.cancelAtPeriodEnd ?? false,
      pastDueSince: sub?.pastDueSince ?? null,
      seats: { purchased: live ? sub.seats : 0 },
      banners: this.banners(sub),
    };
  }

  /** The plan the account is entitled to: a free-tier subscription (or none) is the Free plan. */
  private planOf(sub: SubscriptionView | null): PlanRef {
    const id = sub && isLiveState(sub.state) && sub.planId ? sub.planId : 'free';
    const found = findPlan(this.catalog.catalogue(), id);
    return { id, name: found.ok ? found.value.name : id };
  }

  /** The next renewal: the period end of a subscription that goes on after it. */
  private renewsAt(sub: SubscriptionView | null): string | null {
    if (!sub || !['active', 'past_due', 'suspended'].includes(sub.state)) {
      return sub?.state === 'trialing' ? sub.trialEnd : null;
    }
    return sub.currentPeriodEnd;
  }

  private banners(sub: SubscriptionView | null): EntitlementBanner[] {
    if (!sub) return [];
    const date = (iso: string | null) => (iso ? new Date(iso) : undefined);
    return deriveEntitlements({
      catalogue: this.catalog.catalogue(),
      planId: isLiveState(sub.state) && sub.planId ? sub.planId : 'free',
      state: sub.state,
      purchasedSeats: isLiveState(sub.state) ? sub.seats : 0,
      flags: { billingEnabled: true },
      now: this.clock.now(),
      ...(date(sub.currentPeriodEnd) ? { currentPeriodEnd: date(sub.currentPeriodEnd)! } : {}),
      ...(date(sub.trialEnd) && sub.state === 'trialing' ? { trialEnd: date(sub.trialEnd)! } : {}),
      ...(date(sub.pastDueSince) ? { pastDueSince: date(sub.pastDueSince)! } : {}),
      ...(sub.pendingPlanChange
        ? {
            pendingPlanChange: {
              planId: sub.pendingPlanChange.planId,
              interval: sub.pendingPlanChange.interval,
              effectiveAt: new Date(sub.pendingPlanChange.effectiveAt),
            },
          }
        : {}),
    }).banners;
  }
}
