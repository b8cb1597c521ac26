import { FREE_PLAN_ID, isLiveState, transition, type PlanDefinition } from '@billing/domain';
import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { Clock } from '../../../platform/clock/clock.js';
import { ApiError } from '../../../platform/http/api-error.js';
import { AuditFacade } from '../../audit/audit.facade.js';
import { CatalogFacade } from '../../catalog/catalog.facade.js';
import { ApplyPlanChangeHandler } from '../commands/apply-plan-change/apply-plan-change.handler.js';
import { QuotePlanChangeHandler } from '../commands/quote-plan-change/quote-plan-change.handler.js';
import { ACCOUNT_BILLING_SWITCH, type AccountBillingSwitch } from '../contracts/account-billing-switch.js';
import type { PlanQuoteView } from '../contracts/plan-quote.view.js';
import { auditedFields } from '../persistence/subscription.mapper.js';
import { SubscriptionOrmEntity } from '../persistence/subscription.orm-entity.js';
import { SubscriptionQuoteOrmEntity } from '../persistence/subscription-quote.orm-entity.js';
import { toSnapshot } from '../persistence/subscription.snapshot.js';

/**
 * What Stripe's invoice preview says a seat change costs (R-SUB-3: the app never computes proration),
 * locked as a seats-only quote: buying with `quoteId` is charged exactly this.
 */
export interface SeatPrice {
  /** The stored quote that holds this price (`subscription_quotes`), until `priceLockedUntil`. */
  quoteId: string;
  /** The proration lines' total: positive for seats bought (charged now), negative for seats released. */
  amountMinor: number;
  /** What the invoice asks for now, after the customer's credit balance (0 for a release). */
  amountDue: number;
  currency: string;
  /** The instant the proration is computed at; the change made with the quote uses it too. */
  prorationDate: string;
  /** The quote's expiry (QUOTE_TTL_MINUTES after it was made). */
  priceLockedUntil: string;
  /** The end of the period the proration runs to. */
  periodEnd: string | null;
}

/** An applied seat change: before and after, and what Stripe billed for it. */
export interface AppliedSeatChange {
  fromSeats: number;
  toSeats: number;
  price: SeatPrice;
  /** The invoice Stripe charged now (bought seats), else null (the credit waits for the next invoice). */
  invoiceId: string | null;
  amountCharged: number;
  /** The quote the change applied (now `applied`). */
  quote: PlanQuoteView;
}

/** The account's seat situation, read under the seat lock. */
export interface SeatScope {
  /** The live subscription row, locked; null on the Free tier. */
  row: SubscriptionOrmEntity | null;
  plan: PlanDefinition;
  purchasedSeats: number;
}

/** A quote's price as the seat routes show it. */
export function seatPriceOf(quote: PlanQuoteView): SeatPrice {
  return {
    quoteId: quote.id,
    amountMinor: quote.prorationAmount,
    amountDue: quote.amountDueNow,
    currency: quote.currency,
    prorationDate: quote.prorationDate,
    priceLockedUntil: quote.expiresAt,
    periodEnd: quote.nextInvoice.at,
  };
}

/**
 * Seat changes of one account (R-PLAN-3), shared by `PUT /v1/subscription/seats` and the members
 * commands. A seat price is a stored seats-only quote (the one way a price is locked: the quote's
 * `proration_date` and expiry), and a seat change applies a quote, the caller's (the price it was
 * shown) or one made at that moment. Every change runs under a per-account lock (a
 * transaction-scoped advisory lock), so that a double click waits for the first click and then sees
 * its result; it asks the machine first (`change_seats`: a refusal calls Stripe for nothing), then
 * applies the quote (Stripe under the quote's idempotency key, the machine, audit, event) inside the
 * caller's transaction, whose own writes (the member) commit with it: when Stripe declines the charge,
 * nothing is written. Nothing here calls Stripe for an account whose billing is off (R-PLAN-5): 409
 * `billing_disabled`.
 */
@Injectable()
export class SeatChanges implements OnApplicationBootstrap {
  private readonly logger = new Logger('Seats');
  private billingSwitch: AccountBillingSwitch | null = null;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly clock: Clock,
    private readonly audit: AuditFacade,
    private readonly catalog: CatalogFacade,
    private readonly quotes: QuotePlanChangeHandler,
    private readonly applying: ApplyPlanChangeHandler,
    private readonly moduleRef: ModuleRef,
  ) {}

  /** The entitlements module's billing switch, resolved once the application is built (it fails without). */
  onApplicationBootstrap(): void {
    this.billingSwitch = this.moduleRef.get<AccountBillingSwitch>(ACCOUNT_BILLING_SWITCH, { strict: false });
  }

  /**
   * 409 `billing_disabled` when billing is off for the account (R-PLAN-5): seat prices and changes are
   * Stripe calls, which such an account never gets. Routes marked `@BillingCall()` are refused earlier;
   * this guards the members routes, whose free-seat paths call no Stripe and stay open.
   */
  private async assertBilled(accountId: string): Promise<void> {
    if (!this.billingSwitch) throw new Error('the account billing switch is not resolved yet');
    if ((await this.billingSwitch.execute(accountId)) === false) {
      throw new ApiError(
        'billing_disabled',
        'Billing is turned off for this account: it has full access, and nothing is billed or asked of Stripe for it.',
      );
    }
  }

  /** Runs `fn` in a transaction holding the account's seat lock. */
  inAccountLock<T>(accountId: string, fn: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.db.transaction(async (manager) => {
      await manager.query(`SELECT pg_advisory_xact_lock(hashtext('account-seats:' || $1))`, [accountId]);
      return fn(manager);
    });
  }

  /**
   * The account's live subscription (locked) and its plan; the Free plan when none is live. Locked FOR
   * NO KEY UPDATE: it keeps other writers out (the mirror, a plan change) yet lets the seat quote, made
   * on another connection meanwhile, reference the row (its foreign key takes FOR KEY SHARE).
   */
  async scope(manager: EntityManager, accountId: string): Promise<SeatScope> {
    const rows = await manager.getRepository(SubscriptionOrmEntity).find({
      where: { accountId },
      order: { createdAt: 'DESC', id: 'DESC' },
    });
    const live = rows.find((r) => isLiveState(r.state)) ?? null;
    const row = live
      ? await manager
          .getRepository(SubscriptionOrmEntity)
          .findOneOrFail({ where: { id: live.id }, lock: { mode: 'for_no_key_update' } })
      : null;
    const plan = this.catalog.plan(row?.planId ?? FREE_PLAN_ID);
    if (!plan) throw new Error(`plan ${row?.planId ?? FREE_PLAN_ID} is not in the catalogue`);
    return { row, plan, purchasedSeats: row ? row.seats : 0 };
  }

  /** The account's scope with its live subscription; 409 `invalid_transition` on the Free tier. */
  async liveScope(
    manager: EntityManager,
    accountId: string,
  ): Promise<SeatScope & { row: SubscriptionOrmEntity }> {
    const scope = await this.scope(manager, accountId);
    if (!scope.row) {
      throw new ApiError('invalid_transition', 'The account has no live subscription to add seats to.', {
        details: { state: 'free' },
      });
    }
    return { ...scope, row: scope.row };
  }

  /**
   * Stripe's price of moving the subscription to `seats` purchased add-on seats, after the machine's
   * checks (the refusals the change would meet), locked as a seats-only quote: the change made with its
   * `quoteId` is charged exactly this. `memberCount`: the members once the caller's change is made.
   */
  async price(row: SubscriptionOrmEntity, seats: number, memberCount: number): Promise<SeatPrice> {
    this.check(row, seats, memberCount);
    return seatPriceOf(await this.quote(row, seats, memberCount));
  }

  private async quote(
    row: SubscriptionOrmEntity,
    seats: number,
    memberCount: number,
  ): Promise<PlanQuoteView> {
    await this.assertBilled(row.accountId);
    if (!row.planId || !row.interval) throw new Error(`live subscription ${row.id} has no plan`);
    return this.quotes.execute(
      row.accountId,
      { planId: row.planId, interval: row.interval, seats },
      { memberCount },
    );
  }

  private check(row: SubscriptionOrmEntity, seats: number, memberCount: number): void {
    const asked = transition(
      toSnapshot(row),
      { type: 'change_seats', seats, memberCount },
      this.clock.now(),
      this.catalog.catalogue(),
    );
    if (!asked.ok) throw ApiError.fromRejection(asked.error, 'seats');
  }

  /**
   * Moves the live subscription to `seats` purchased add-on seats by applying a seats-only quote: the
   * caller's `quoteId` (the price it showed; another kind or seat count is 409 `quote_mismatch`), or
   * one made now. Machine check, Stripe, machine, audit, event, in the caller's transaction.
   * `memberCount` is the member count once the caller's own change is made.
   */
  async apply(
    manager: EntityManager,
    row: SubscriptionOrmEntity,
    change: { seats: number; memberCount: number; reason: string; quoteId?: string },
  ): Promise<AppliedSeatChange> {
    this.check(row, change.seats, change.memberCount);
    await this.assertBilled(row.accountId);
    if (change.quoteId !== undefined) {
      await this.matchingQuote(manager, row.accountId, change.quoteId, change.seats);
    }
    const quoteId = change.quoteId ?? (await this.quote(row, change.seats, change.memberCount)).id;
    const before = auditedFields(row);
    const fromSeats = row.seats;
    const applied = await this.applying.execute(row.accountId, quoteId, {
      manager,
      memberCount: change.memberCount,
    });
    const after = await manager.getRepository(SubscriptionOrmEntity).findOneOrFail({ where: { id: row.id } });
    const invoiceId = applied.quote.stripeInvoiceId;
    // Stripe charged the quote's amount to the cent (same items, instant and balance: the quote's terms).
    const amountCharged = invoiceId ? applied.quote.amountDueNow : 0;
    await this.audit.record(
      {
        accountId: row.accountId,
        action: 'subscription.seats_changed',
        entityType: 'subscription',
        entityId: row.id,
        before,
        after: {
          ...auditedFields(after),
          amountCharged,
          prorationAmount: applied.quote.prorationAmount,
          quoteId,
        },
        reason: change.reason,
      },
      manager,
    );
    this.logger.log({
      msg: 'seats changed',
      subscriptionId: row.id,
      fromSeats,
      toSeats: change.seats,
      quoteId,
    });
    return {
      fromSeats,
      toSeats: applied.quote.to.seats,
      price: seatPriceOf(applied.quote),
      invoiceId,
      amountCharged,
      quote: applied.quote,
    };
  }

  /** The account's seats-only quote for `seats`: 404 for none, 409 `quote_mismatch` for another change. */
  async matchingQuote(
    manager: EntityManager,
    accountId: string,
    quoteId: string,
    seats: number,
  ): Promise<SubscriptionQuoteOrmEntity> {
    const quote = await manager
      .getRepository(SubscriptionQuoteOrmEntity)
      .findOne({ where: { id: quoteId, accountId } });
    if (!quote) throw new ApiError('not_found', 'No such quote for this account.', { param: 'quoteId' });
    const seatsOnly = quote.kind === 'seats_added' || quote.kind === 'seats_removed';
    if (!seatsOnly || quote.seats !== seats) {
      throw new ApiError(
        'quote_mismatch',
        seatsOnly
          ? `The quote is for ${quote.seats} purchased seats, not ${seats}.`
          : 'The quote changes the plan, not only the seats: apply it with POST /v1/subscription/change.',
        {
          param: 'quoteId',
          details: { quoteId, kind: quote.kind, quotedSeats: quote.seats, purchased: seats },
        },
      );
    }
    return quote;
  }
}
