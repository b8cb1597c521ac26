import {
  isLiveState,
  type MirroredSubscriptionFacts,
  type StripeSideSubscriptionFacts,
  type SubscriptionState,
} from '@billing/domain';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type Stripe from 'stripe';
import { DataSource, type EntityManager } from 'typeorm';
import {
  ApplyPlanChangeHandler,
  type AppliedPlanChange,
} from './commands/apply-plan-change/apply-plan-change.handler.js';
import { QuotePlanChangeHandler } from './commands/quote-plan-change/quote-plan-change.handler.js';
import type { PlanQuoteTarget, PlanQuoteView } from './contracts/plan-quote.view.js';
import type { Actor } from '../../platform/context/request-context.js';
import { ApplyDunningInputHandler } from './commands/apply-dunning-input/apply-dunning-input.handler.js';
import type { DunningInput, DunningInputResult } from './contracts/dunning-input.js';
import { transformStripeSubscription } from './stripe/transform-stripe-subscription.js';
import type { SubscriptionView } from './contracts/subscription.view.js';
import { toSubscriptionView } from './persistence/subscription.mapper.js';
import { hydrateJsonRows, readPart, sql, type ReadPart, type Sql } from '../../platform/database/row-sql.js';
import { SubscriptionOrmEntity } from './persistence/subscription.orm-entity.js';

/** What other modules may ask of subscriptions (entitlements, dunning, reconciliation build on these). */
@Injectable()
export class SubscriptionsFacade {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly quoting: QuotePlanChangeHandler,
    private readonly applying: ApplyPlanChangeHandler,
    private readonly dunningInputs: ApplyDunningInputHandler,
  ) {}

  /**
   * Prices a change of the account's live subscription to `target` (plan, interval, purchased seats)
   * with Stripe's preview and stores it as a quote (R-SUB-3). A seat-only change is a quote of the
   * current plan with another seat count: more seats are charged pro rata at once, fewer credited to
   * the next invoice. Throws the API's refusals (ApiError).
   */
  quotePlanChange(accountId: string, target: PlanQuoteTarget): Promise<PlanQuoteView> {
    return this.quoting.execute(accountId, target);
  }

  /** Applies exactly a quote of the account, once (see ApplyPlanChangeHandler). */
  applyPlanChange(accountId: string, quoteId: string): Promise<AppliedPlanChange> {
    return this.applying.execute(accountId, quoteId);
  }

  /**
   * Applies what dunning reports (a failed attempt, the grace period's end, the invoice paid) through
   * the machine, in the caller's transaction; null when the subscription is not mirrored.
   */
  applyDunningInput(
    manager: EntityManager,
    stripeSubscriptionId: string,
    input: DunningInput,
    actor: Actor,
  ): Promise<DunningInputResult | null> {
    return this.dunningInputs.execute(manager, stripeSubscriptionId, input, actor);
  }

  /**
   * The id of the mirrored subscription with this Stripe id (NULL when it is not mirrored), as a scalar
   * subquery of the caller's statement: the statement that opens a dunning case names it
   * (`npm run bench:dunning`).
   */
  idByStripeIdSql(stripeSubscriptionId: string): Sql {
    return sql`(SELECT id FROM subscriptions WHERE stripe_subscription_id = ${stripeSubscriptionId})`;
  }

  async findByStripeId(
    stripeSubscriptionId: string,
    manager: EntityManager = this.db.manager,
  ): Promise<SubscriptionView | null> {
    const row = await manager
      .getRepository(SubscriptionOrmEntity)
      .findOne({ where: { stripeSubscriptionId } });
    return row ? toSubscriptionView(row) : null;
  }

  /** Every mirrored subscription of the account, newest first. */
  async listForAccount(
    accountId: string,
    manager: EntityManager = this.db.manager,
  ): Promise<SubscriptionView[]> {
    return readPart(manager, this.listForAccountPart(accountId, manager));
  }

  /** {@link listForAccount} as part of the caller's statement (output `subscriptions__of_account`). */
  listForAccountPart(
    accountId: string | Sql,
    manager: EntityManager = this.db.manager,
  ): ReadPart<SubscriptionView[]> {
    return {
      ctes: [],
      outputs: [
        sql`(SELECT json_agg(row_to_json(s) ORDER BY s.created_at DESC, s.id DESC)
               FROM subscriptions s WHERE s.account_id = ${accountId}::uuid) AS subscriptions__of_account`,
      ],
      read: (result) =>
        hydrateJsonRows(manager, SubscriptionOrmEntity, result.subscriptions__of_account).map(
          toSubscriptionView,
        ),
    };
  }

  /**
   * The subscription that decides the account's state: the newest live one (trialing, active,
   * past_due, suspended, canceled_pending), else the newest one; null when the account never had one
   * (the Free tier).
   */
  async currentForAccount(
    accountId: string,
    manager: EntityManager = this.db.manager,
  ): Promise<SubscriptionView | null> {
    return readPart(manager, this.currentForAccountPart(accountId, manager));
  }

  /** {@link currentForAccount} as part of the caller's statement (output `subscriptions__of_account`). */
  currentForAccountPart(
    accountId: string | Sql,
    manager: EntityManager = this.db.manager,
  ): ReadPart<SubscriptionView | null> {
    const list = this.listForAccountPart(accountId, manager);
    return {
      ...list,
      read: (result) => {
        const all = list.read(result);
        return all.find((s) => isLiveState(s.state)) ?? all[0] ?? null;
      },
    };
  }

  /**
   * True when a Checkout of the account completed but its subscription is not mirrored yet (the webhook
   * or the callback has not applied it): the account's billing state is uncertain (R-CORE-5).
   */
  checkoutAwaitingMirrorPart(accountId: string | Sql): ReadPart<boolean> {
    return {
      ctes: [],
      outputs: [
        sql`EXISTS (
              SELECT 1 FROM subscription_checkouts c
               WHERE c.account_id = ${accountId}::uuid AND c.status = 'complete'
                 AND NOT EXISTS (
                   SELECT 1 FROM subscriptions s
                    WHERE s.account_id = c.account_id
                      AND (s.stripe_subscription_id = c.stripe_subscription_id
                           OR (c.stripe_subscription_id IS NULL AND s.created_at >= c.created_at)))
            ) AS subscriptions__awaiting_mirror`,
      ],
      read: (result) => result.subscriptions__awaiting_mirror === true,
    };
  }

  /** A Stripe subscription as reconciliation compares it (R-REC-1). */
  factsFromStripe(subscription: Stripe.Subscription): StripeSideSubscriptionFacts {
    const values = transformStripeSubscription(subscription);
    return {
      stripeId: values.stripeSubscriptionId,
      status: values.stripeStatus,
      items: values.items.map((i) => ({ priceId: i.priceId, quantity: i.quantity })),
      seats: values.seats,
      currentPeriodEnd: seconds(values.currentPeriodEnd),
      cancelAtPeriodEnd: values.cancelAtPeriodEnd,
    };
  }

  /**
   * The mirrors of these Stripe subscriptions (one indexed read per page of a reconciliation run). Only
   * the compared columns, as plain values (the period end as Unix seconds): a run reads every mirror, and
   * whole entities (every column, each timestamp parsed into a Date, then hydrated) were most of what
   * its worker allocated and V8 promoted (docs/benchmarks.md, Reconciliation).
   */
  async mirroredFacts(
    stripeSubscriptionIds: readonly string[],
    manager: EntityManager = this.db.manager,
  ): Promise<MirroredSubscriptionFacts[]> {
    if (stripeSubscriptionIds.length === 0) return [];
    const rows = await manager.query<MirroredFactsRow[]>(
      `SELECT ${MIRRORED_FACTS_COLUMNS} FROM subscriptions s WHERE s.stripe_subscription_id = ANY($1::text[])`,
      [stripeSubscriptionIds],
    );
    return rows.map(mirroredFactsOf);
  }

  /**
   * One keyset page (by Stripe id, after `after`; null: from the start) of the mirrors a reconciliation
   * run did not list at Stripe: `unlistedBy` names the run whose Stripe pass recorded the ids it listed
   * (`reconciliation_seen`), so that the app-side pass reads only the mirrors left over (a few), not
   * every mirror again.
   */
  async mirroredFactsPage(
    after: string | null,
    limit: number,
    unlistedBy: string,
    manager: EntityManager = this.db.manager,
  ): Promise<MirroredSubscriptionFacts[]> {
    const rows = await manager.query<MirroredFactsRow[]>(
      `SELECT ${MIRRORED_FACTS_COLUMNS} FROM subscriptions s
        WHERE ($1::text IS NULL OR s.stripe_subscription_id > $1)
          AND NOT EXISTS (SELECT 1 FROM reconciliation_seen r
                           WHERE r.run_id = $2 AND r.object_type = 'subscription'
                             AND r.stripe_id = s.stripe_subscription_id)
        ORDER BY s.stripe_subscription_id LIMIT $3`,
      [after, unlistedBy, limit],
    );
    return rows.map(mirroredFactsOf);
  }
}

const MIRRORED_FACTS_COLUMNS = `s.stripe_subscription_id, s.account_id, s.stripe_status, s.state, s.plan_id,
  s.base_price_id, s.seat_price_id, s.seats, s.cancel_at_period_end,
  floor(extract(epoch FROM s.current_period_end))::int8 AS current_period_end`;

interface MirroredFactsRow {
  stripe_subscription_id: string;
  account_id: string;
  stripe_status: string;
  state: SubscriptionState;
  plan_id: string | null;
  base_price_id: string | null;
  seat_price_id: string | null;
  seats: number;
  cancel_at_period_end: boolean;
  /** int8 arrives as a string. */
  current_period_end: string | null;
}

function seconds(date: Date | null): number | null {
  return date ? Math.floor(date.getTime() / 1000) : null;
}

function mirroredFactsOf(row: MirroredFactsRow): MirroredSubscriptionFacts {
  return {
    stripeId: row.stripe_subscription_id,
    accountId: row.account_id,
    status: row.stripe_status,
    appState: row.state,
    basePriceId: row.base_price_id,
    seatPriceId: row.seat_price_id,
    seats: row.seats,
    currentPeriodEnd: row.current_period_end === null ? null : Number(row.current_period_end),
    cancelAtPeriodEnd: row.cancel_at_period_end,
    grantsPaidTier: isLiveState(row.state) && row.plan_id !== null && row.plan_id !== 'free',
  };
}
