import {
  deriveEntitlements,
  findPlan,
  isLiveState,
  LIVE_STATES,
  seatTotal,
  type EntitlementBanner,
} from '@billing/domain';
import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Clock } from '../../../platform/clock/clock.js';
import {
  entityColumnsSql,
  hydrateRow,
  join,
  raw,
  rows,
  sql,
  type Sql,
} from '../../../platform/database/row-sql.js';
import { AccountsFacade, parseBillingFacts } from '../../accounts/accounts.facade.js';
import { CatalogFacade } from '../../catalog/catalog.facade.js';
import { PaymentsFacade } from '../../payments/payments.facade.js';
import {
  ACCOUNT_RECENT_INVOICES,
  type AccountRecentInvoices,
  type RecentInvoiceLine,
} from '../contracts/account-recent-invoices.js';
import type { SubscriptionView } from '../contracts/subscription.view.js';
import { toSubscriptionView } from '../persistence/subscription.mapper.js';
import { SubscriptionOrmEntity } from '../persistence/subscription.orm-entity.js';

/** Where the account id goes in a view's statement (see `SubscriptionViewQueries.read`). */
const ACCOUNT = Symbol('accountId');

/** A view's statement, composed once. */
interface ViewStatement {
  text: string;
  values: readonly unknown[];
  /** The names of its extra outputs (`x_<name>`). */
  extras: string[];
}

/** How many of the account's invoices the finance/support view lists (all of them: `GET /v1/invoices`). */
export const INTERNAL_VIEW_INVOICES = 10;

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
  /** The account's most recent invoices, newest first (at most {@link INTERNAL_VIEW_INVOICES}). */
  invoices: RecentInvoiceLine[];
}

/**
 * The account's subscription as each role may see it (R-SUB-8), with plan names and included seats
 * from the configured catalogue.
 *
 * Each view is one statement (`npm run bench:subscriptions` measures the owner's): the account's
 * current subscription and, for the owner, the account's facts and the default card, as the accounts
 * and payments facades write them into it. The finance/support view adds the account's recent
 * invoices, read through the invoices module's side of {@link AccountRecentInvoices} at the same time.
 */
@Injectable()
export class SubscriptionViewQueries implements OnApplicationBootstrap {
  private recentInvoices!: AccountRecentInvoices;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly clock: Clock,
    private readonly accounts: AccountsFacade,
    private readonly payments: PaymentsFacade,
    private readonly catalog: CatalogFacade,
    private readonly moduleRef: ModuleRef,
  ) {}

  /** The invoices module's query contract, resolved once the application is built (it fails without). */
  onApplicationBootstrap(): void {
    this.recentInvoices = this.moduleRef.get<AccountRecentInvoices>(ACCOUNT_RECENT_INVOICES, {
      strict: false,
    });
  }

  async forOwner(accountId: string): Promise<OwnerSubscriptionView> {
    const { sub, extras } = await this.read(accountId, 'owner');
    const facts = parseBillingFacts(extras.facts);
    const card = extras.card as { brand: string | null; last4: string | null } | null;
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
      seats: { used: facts?.members ?? 0, included, purchased, total: included + purchased },
      card: card && facts?.defaultPaymentMethodId ? { brand: card.brand, last4: card.last4 } : null,
      creditBalance: facts?.balance ?? 0,
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
    const { sub } = await this.read(accountId);
    return { view: 'member', plan: this.planOf(sub), renewsAt: this.renewsAt(sub) };
  }

  async forInternal(accountId: string): Promise<InternalSubscriptionView> {
    const [{ sub }, invoices] = await Promise.all([
      this.read(accountId),
      this.recentInvoices.recentForAccount(accountId, INTERNAL_VIEW_INVOICES),
    ]);
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
      invoices,
    };
  }

  /**
   * ONE statement (prepared, see row-sql `rows`): the subscription that decides the account's state, as
   * `SubscriptionsFacade.currentForAccount` picks it (the newest live one, else the newest one; none:
   * Free), and the values of the `extras` expressions, which may read `facts.f` (the account's billing
   * facts, `AccountsFacade.billingFactsSql`). The statement is composed once per kind of view and its
   * text kept (the same string object each time: no composing, escaping or hashing per request, which
   * the profile of `npm run bench:subscriptions` showed); only the account id changes.
   */
  private async read(
    accountId: string,
    kind: 'owner' | 'plain' = 'plain',
  ): Promise<{ sub: SubscriptionView | null; extras: Record<string, unknown> }> {
    const manager = this.db.manager;
    const statement = (this.statements[kind] ??= this.compose(kind));
    const [found] = await rows<Record<string, unknown>>(
      manager,
      statement.text,
      statement.values.map((v) => (v === ACCOUNT ? accountId : v)),
    );
    const row = found ?? {};
    const sub = row.id ? toSubscriptionView(hydrateRow(manager, SubscriptionOrmEntity, row)) : null;
    return {
      sub,
      extras: Object.fromEntries(statement.extras.map((name) => [name, row[`x_${name}`] ?? null])),
    };
  }

  private readonly statements: Partial<Record<'owner' | 'plain', ViewStatement>> = {};

  /** The view's statement with {@link ACCOUNT} where the account id goes. */
  private compose(kind: 'owner' | 'plain'): ViewStatement {
    const manager = this.db.manager;
    const id = sql`${ACCOUNT}::uuid`;
    const extras: Record<string, Sql> =
      kind === 'owner'
        ? {
            facts: sql`facts.f`,
            card: this.payments.cardSummarySql(id, sql`facts.f->>'defaultPaymentMethodId'`),
          }
        : {};
    const wanted = Object.entries(extras);
    const facts = kind === 'owner' ? this.accounts.billingFactsSql(id) : sql`NULL::jsonb`;
    const columns = [
      entityColumnsSql(manager, SubscriptionOrmEntity, 's'),
      ...wanted.map(([name, expression]) => sql`${expression} AS ${raw(`"x_${name}"`)}`),
    ];
    const statement = sql`SELECT ${join(columns)}
            FROM (SELECT ${facts} AS f) facts
            LEFT JOIN LATERAL (
              SELECT ${entityColumnsSql(manager, SubscriptionOrmEntity)} FROM subscriptions
               WHERE account_id = ${id}
               ORDER BY state = ANY (${[...LIVE_STATES]}::text[]) DESC, created_at DESC, id DESC
               LIMIT 1) s ON true`;
    return { text: statement.text, values: statement.values, extras: wanted.map(([name]) => name) };
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
