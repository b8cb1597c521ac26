import {
  FREE_PLAN_ID,
  isLiveState,
  transition,
  type PlanDefinition,
  type SubscriptionInput,
} from '@billing/domain';
import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Redis } from 'ioredis';
import type Stripe from 'stripe';
import { DataSource, type EntityManager } from 'typeorm';
import { Clock } from '../../../platform/clock/clock.js';
import { AppConfig } from '../../../platform/config/app-config.js';
import { RequestContext } from '../../../platform/context/request-context.js';
import { ApiError } from '../../../platform/http/api-error.js';
import { REDIS } from '../../../platform/redis/redis.module.js';
import { idOf } from '../../../platform/stripe/stripe-ids.js';
import { StripeGateway } from '../../../platform/stripe/stripe.gateway.js';
import { AccountsFacade } from '../../accounts/accounts.facade.js';
import { AuditFacade } from '../../audit/audit.facade.js';
import { CatalogFacade } from '../../catalog/catalog.facade.js';
import { ACCOUNT_BILLING_SWITCH, type AccountBillingSwitch } from '../contracts/account-billing-switch.js';
import { auditedFields } from '../persistence/subscription.mapper.js';
import { seatItemChange } from '../stripe/subscription-billing.reader.js';
import { SubscriptionOrmEntity } from '../persistence/subscription.orm-entity.js';
import { toSnapshot } from '../persistence/subscription.snapshot.js';
import { SubscriptionTransitions } from './subscription-transitions.js';

/** How Stripe bills a seat change: buying is charged now, releasing credits the next invoice (R-PLAN-3). */
export type SeatProration = 'always_invoice' | 'create_prorations';

/** What Stripe's invoice preview says a seat change costs (R-SUB-3: the app never computes proration). */
export interface SeatPrice {
  /** The proration lines' total: positive for seats bought (charged now), negative for seats released. */
  amountMinor: number;
  /** What the invoice asks for now, after the customer's credit balance (0 for a release). */
  amountDue: number;
  currency: string;
  /** The instant the proration is computed at, and until when buying is charged at it. */
  prorationDate: string;
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
}

/** The account's seat situation, read under the seat lock. */
export interface SeatScope {
  /** The live subscription row, locked; null on the Free tier. */
  row: SubscriptionOrmEntity | null;
  plan: PlanDefinition;
  purchasedSeats: number;
}

/**
 * Seat changes of one account (R-PLAN-3), shared by `PUT /v1/subscription/seats` and the members
 * commands. Every change runs under a per-account lock (a transaction-scoped advisory lock), so that a
 * double click waits for the first click and then sees its result; it asks the machine first
 * (`change_seats`: a refusal calls Stripe for nothing), then Stripe (with an idempotency key of the
 * subscription's version and the seat numbers: a retry never bills twice), then writes the machine's
 * snapshot, audits before/after and publishes `subscription.seats_changed`. The caller's own writes
 * (the member) join the same transaction: when Stripe declines the charge, nothing is written.
 * Nothing here calls Stripe for an account whose billing is off (R-PLAN-5): 409 `billing_disabled`.
 */
@Injectable()
export class SeatChanges implements OnApplicationBootstrap {
  private readonly logger = new Logger('Seats');
  private billingSwitch: AccountBillingSwitch | null = null;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(REDIS) private readonly redis: Redis,
    private readonly gateway: StripeGateway,
    private readonly clock: Clock,
    private readonly config: AppConfig,
    private readonly audit: AuditFacade,
    private readonly catalog: CatalogFacade,
    private readonly transitions: SubscriptionTransitions,
    private readonly accounts: AccountsFacade,
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

  /** The account's live subscription (locked) and its plan; the Free plan when none is live. */
  async scope(manager: EntityManager, accountId: string): Promise<SeatScope> {
    const rows = await manager.getRepository(SubscriptionOrmEntity).find({
      where: { accountId },
      order: { createdAt: 'DESC', id: 'DESC' },
    });
    const live = rows.find((r) => isLiveState(r.state)) ?? null;
    const row = live
      ? await manager
          .getRepository(SubscriptionOrmEntity)
          .findOneOrFail({ where: { id: live.id }, lock: { mode: 'pessimistic_write' } })
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

  /** Stripe's preview of moving the subscription to `seats` purchased add-on seats. */
  async price(
    row: SubscriptionOrmEntity,
    seats: number,
    proration: SeatProration,
    items?: Stripe.SubscriptionUpdateParams.Item[],
  ): Promise<SeatPrice> {
    await this.assertBilled(row.accountId);
    const prorationDate = await this.prorationDate(row, seats);
    items ??= await this.seatItems(row, seats);
    const preview = await this.gateway.call('subscription.seats_preview', (stripe) =>
      stripe.invoices.createPreview({
        subscription: row.stripeSubscriptionId,
        subscription_details: { items, proration_behavior: proration, proration_date: prorationDate },
      }),
    );
    const prorations = preview.lines.data.filter(
      (l) => l.parent?.subscription_item_details?.proration === true,
    );
    const amountMinor = prorations.reduce((sum, l) => sum + l.amount, 0);
    return {
      amountMinor,
      amountDue: proration === 'always_invoice' ? preview.amount_due : 0,
      currency: preview.currency,
      prorationDate: new Date(prorationDate * 1000).toISOString(),
      priceLockedUntil: new Date(
        (prorationDate + this.config.seats.priceLockMinutes * 60) * 1000,
      ).toISOString(),
      periodEnd: row.currentPeriodEnd ? row.currentPeriodEnd.toISOString() : null,
    };
  }

  /**
   * What moving to `seats` would bill, after the machine's checks (the refusals the change would meet),
   * with the price held for SEAT_PRICE_LOCK_MINUTES: buying then is charged exactly this.
   */
  async preview(row: SubscriptionOrmEntity, seats: number, memberCount: number): Promise<SeatPrice> {
    this.check(row, seats, memberCount);
    return this.price(row, seats, seats > row.seats ? 'always_invoice' : 'create_prorations');
  }

  private check(row: SubscriptionOrmEntity, seats: number, memberCount: number): SubscriptionInput {
    const input: SubscriptionInput = { type: 'change_seats', seats, memberCount };
    const asked = transition(toSnapshot(row), input, this.clock.now(), this.catalog.catalogue());
    if (!asked.ok) throw ApiError.fromRejection(asked.error, 'seats');
    return input;
  }

  /**
   * Moves the live subscription to `seats` purchased add-on seats: machine check, Stripe, machine,
   * audit, event. `memberCount` is the member count once the caller's own change is made.
   */
  async apply(
    manager: EntityManager,
    row: SubscriptionOrmEntity,
    change: { seats: number; memberCount: number; reason: string },
  ): Promise<AppliedSeatChange> {
    const input = this.check(row, change.seats, change.memberCount);
    await this.assertBilled(row.accountId);
    const now = this.clock.now();
    const fromSeats = row.seats;
    const proration: SeatProration = change.seats > fromSeats ? 'always_invoice' : 'create_prorations';
    const { items, paymentMethod } = await this.seatUpdate(row, change.seats);
    const price = await this.price(row, change.seats, proration, items);
    const prorationDate = Math.floor(Date.parse(price.prorationDate) / 1000);
    // Not keyed by the proration instant: a retry of this very change (same version and seats) must
    // meet Stripe's replay, or its refusal of other parameters, never a second charge. Keyed by the
    // card Stripe charges: after a decline, a new card is a new attempt, not the stored decline.
    const key = StripeGateway.idempotencyKey(
      'subscription.change_seats',
      row.id,
      row.version,
      fromSeats,
      change.seats,
      paymentMethod ?? 'none',
    );
    const updated = await this.gateway.call('subscription.change_seats', (stripe) =>
      stripe.subscriptions.update(
        row.stripeSubscriptionId,
        {
          items,
          proration_behavior: proration,
          proration_date: prorationDate,
          // A declined charge for bought seats changes nothing at Stripe (and nothing here: 402).
          ...(proration === 'always_invoice' ? { payment_behavior: 'error_if_incomplete' as const } : {}),
          expand: ['latest_invoice'],
        },
        { idempotencyKey: key },
      ),
    );
    const invoice =
      proration === 'always_invoice' && typeof updated.latest_invoice === 'object'
        ? updated.latest_invoice
        : null;
    const before = auditedFields(row);
    const from = row.state;
    const outcome = this.transitions.apply(row, { path: [input], changes: [], reach: row.state }, now);
    if (outcome.refused.length > 0) {
      // Checked above under the lock: a refusal now is a bug, and Stripe already changed (the webhook
      // brings the seats in through the mirror).
      throw new Error(`change_seats refused after Stripe applied it: ${outcome.refused[0]?.rejection.code}`);
    }
    row.updatedAt = now;
    await manager.getRepository(SubscriptionOrmEntity).save(row);
    await this.audit.record(
      {
        accountId: row.accountId,
        action: 'subscription.seats_changed',
        entityType: 'subscription',
        entityId: row.id,
        before,
        after: {
          ...auditedFields(row),
          amountCharged: invoice?.amount_paid ?? 0,
          prorationAmount: price.amountMinor,
        },
        reason: change.reason,
      },
      manager,
    );
    await this.transitions.record(manager, row, outcome, from, RequestContext.actor());
    this.logger.log({ msg: 'seats changed', subscriptionId: row.id, fromSeats, toSeats: change.seats });
    return {
      fromSeats,
      toSeats: change.seats,
      price,
      invoiceId: invoice?.id ?? null,
      amountCharged: invoice?.amount_paid ?? 0,
    };
  }

  /**
   * The proration instant of a change from the row's seats to `seats`: the first preview's, for
   * SEAT_PRICE_LOCK_MINUTES, so the charge equals the price shown; a new one after a change of the
   * subscription (its version is in the key). Without Redis, now.
   */
  private async prorationDate(row: SubscriptionOrmEntity, seats: number): Promise<number> {
    const now = Math.floor(this.clock.now().getTime() / 1000);
    const key = `seat-price:${row.id}:${row.version}:${row.seats}:${seats}`;
    try {
      await this.redis.set(key, String(now), 'EX', this.config.seats.priceLockMinutes * 60, 'NX');
      const locked = Number(await this.redis.get(key));
      const periodStart = row.currentPeriodStart ? row.currentPeriodStart.getTime() / 1000 : -Infinity;
      return Number.isSafeInteger(locked) && locked <= now && locked >= periodStart ? locked : now;
    } catch {
      return now;
    }
  }

  /** The `items` of a Stripe update or preview that sets the seat item's quantity. */
  private async seatItems(
    row: SubscriptionOrmEntity,
    seats: number,
  ): Promise<Stripe.SubscriptionUpdateParams.Item[]> {
    return (await this.seatUpdate(row, seats)).items;
  }

  /** The seat items of the update, and the payment method Stripe will charge for it. */
  private async seatUpdate(
    row: SubscriptionOrmEntity,
    seats: number,
  ): Promise<{ items: Stripe.SubscriptionUpdateParams.Item[]; paymentMethod: string | null }> {
    const subscription = await this.gateway.call('subscription.retrieve', (stripe) =>
      stripe.subscriptions.retrieve(row.stripeSubscriptionId),
    );
    const paymentMethod =
      idOf(subscription.default_payment_method) ??
      (await this.accounts.defaultPaymentMethodId(row.accountId));
    let seatPriceId = row.seatPriceId;
    if (!seatPriceId) {
      if (!row.planId || !row.interval) throw new Error(`live subscription ${row.id} has no plan`);
      const prices = await this.catalog.resolvePrices(row.planId, row.interval);
      if (!prices.ok) throw ApiError.fromRejection(prices.error);
      if (!prices.value.seat) {
        throw new ApiError('seat_addon_unavailable', `The ${row.planId} plan sells no extra seats.`, {
          param: 'seats',
        });
      }
      seatPriceId = prices.value.seat.stripePriceId;
    }
    const item = subscription.items.data.find((i) => i.price.id === seatPriceId);
    return { items: [seatItemChange(item?.id ?? null, seatPriceId, seats)], paymentMethod };
  }
}
