import {
  catalogueLookupKeys,
  err,
  findPlan,
  isBillingInterval,
  ok,
  parsePriceLookupKey,
  rejection,
  type BillingInterval,
  type Catalogue,
  type DomainRejection,
  type PlanDefinition,
  type PriceKind,
  type Result,
} from '@billing/domain';
import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, In, type EntityManager } from 'typeorm';
import { ApiError } from '../../platform/http/api-error.js';
import { CATALOGUE } from './catalog.tokens.js';
import type {
  CatalogPriceView,
  PlanStripePrices,
  SubscriptionItemsDescription,
} from './contracts/catalog-price.view.js';
import { CatalogPriceOrmEntity } from './persistence/catalog-price.orm-entity.js';

/** A Stripe subscription item as {@link CatalogFacade.describeItems} reads it. */
export interface StripeItemRef {
  priceId: string;
  quantity: number;
  /** The price's own `lookup_key` and `metadata`, used for prices our table does not know. */
  lookupKey?: string | null;
  metadata?: Record<string, string> | null;
}

const toView = (row: CatalogPriceOrmEntity): CatalogPriceView => ({
  stripePriceId: row.stripePriceId,
  lookupKey: row.lookupKey,
  planId: row.planId,
  interval: row.interval,
  kind: row.kind,
  unitAmount: row.unitAmount,
  currency: row.currency,
  isCurrent: row.isCurrent,
});

/**
 * What other modules may ask of the catalogue (R-PLAN-1/2). Plans are data from the operator's file:
 * pass {@link catalogue} to the domain (`transition`, `deriveEntitlements`, seat rules) rather than
 * naming plans in code. Stripe price ids come from catalogue sync (`npm run catalog:sync`).
 */
/** What the catalogue says a Stripe price is. */
type KnownPrice = { planId: string; interval: BillingInterval; kind: PriceKind };

/** How long a price found in the catalogue table is remembered (see `knownPrices`). */
const PRICE_MEMORY_MS = 60_000;

@Injectable()
export class CatalogFacade {
  private readonly prices = new Map<string, { price: KnownPrice; until: number }>();

  constructor(
    @Inject(CATALOGUE) private readonly configured: Catalogue,
    @InjectDataSource() private readonly db: DataSource,
  ) {}

  /** The configured catalogue (validated at start-up). */
  catalogue(): Catalogue {
    return this.configured;
  }

  /** A plan of the catalogue, or null. */
  plan(planId: string): PlanDefinition | null {
    const found = findPlan(this.configured, planId);
    return found.ok ? found.value : null;
  }

  /**
   * The Stripe prices to start or change a subscription to (plan, interval): the base price (quantity 1)
   * and the add-on seat price (quantity = purchased seats), null when the plan sells no seats then.
   *
   * A plan or interval the catalogue does not sell (or Free) is `plan_not_found` (returned). A price
   * that catalogue sync has not made yet, or whose amount differs from the file (the file was edited and
   * not synced), throws `service_unavailable` naming the fix: billing a price other than the one shown
   * in `GET /v1/plans` would charge the wrong amount.
   */
  async resolvePrices(
    planId: string,
    interval: BillingInterval,
    manager: EntityManager = this.db.manager,
  ): Promise<Result<PlanStripePrices, DomainRejection>> {
    const plan = this.plan(planId);
    const basePrice = plan?.prices[interval];
    if (!plan || !basePrice || basePrice.amountMinor === 0) {
      return err(
        rejection('plan_not_found', `no paid plan '${planId}' billed per ${interval} in the catalogue`, {
          planId,
          interval,
        }),
      );
    }
    const seatPrice = plan.seatAddOnPrices[interval];
    const rows = await manager.getRepository(CatalogPriceOrmEntity).find({
      where: { planId, interval, isCurrent: true },
    });
    const pick = (kind: PriceKind, amount: number): CatalogPriceView => {
      const row = rows.find((r) => r.kind === kind);
      if (!row || row.unitAmount !== amount || row.currency !== basePrice.currency) {
        throw new ApiError(
          'service_unavailable',
          `The ${plan.name} plan's ${interval}ly price is not in Stripe as the catalogue says: run npm run catalog:sync.`,
          { details: { planId, interval, kind } },
        );
      }
      return toView(row);
    };
    return ok({
      planId,
      interval,
      base: pick('base', basePrice.amountMinor),
      seat: seatPrice && seatPrice.amountMinor > 0 ? pick('seat', seatPrice.amountMinor) : null,
    });
  }

  /**
   * The lookup keys of the catalogue that catalogue sync has not made as the file says (no current
   * price, or another amount or currency): empty when every plan can be sold. Start-up warns with it.
   */
  async unsyncedLookupKeys(manager: EntityManager = this.db.manager): Promise<string[]> {
    const rows = await manager.getRepository(CatalogPriceOrmEntity).find({ where: { isCurrent: true } });
    const current = new Map(rows.map((r) => [r.lookupKey, r]));
    return catalogueLookupKeys(this.configured)
      .filter((e) => {
        const row = current.get(e.lookupKey);
        return !row || row.unitAmount !== e.unitAmount.amountMinor || row.currency !== e.unitAmount.currency;
      })
      .map((e) => e.lookupKey);
  }

  /** What a Stripe price id sells (also an old, replaced price), or null when it is not the catalogue's. */
  async priceById(
    stripePriceId: string,
    manager: EntityManager = this.db.manager,
  ): Promise<CatalogPriceView | null> {
    const row = await manager.getRepository(CatalogPriceOrmEntity).findOne({ where: { stripePriceId } });
    return row ? toView(row) : null;
  }

  /**
   * A subscription's Stripe items in catalogue terms: the plan and interval of its base item, and the
   * purchased seats (quantity of its seat item). Prices are mapped through the sync's table; a price it
   * does not know is recognised by the metadata sync puts on every price, then by its lookup key.
   * Null when no item is a base price of the catalogue.
   */
  async describeItems(
    items: readonly StripeItemRef[],
    manager: EntityManager = this.db.manager,
  ): Promise<SubscriptionItemsDescription | null> {
    if (items.length === 0) return null;
    const known = await this.knownPrices(
      items.map((i) => i.priceId),
      manager,
    );
    let base: { planId: string; interval: BillingInterval; priceId: string } | null = null;
    let seat: { priceId: string; quantity: number; planId: string; interval: BillingInterval } | null = null;
    for (const item of items) {
      const what = this.identify(item, known.get(item.priceId));
      if (!what) continue;
      if (what.kind === 'base' && !base) base = { ...what, priceId: item.priceId };
      if (what.kind === 'seat' && !seat) seat = { ...what, priceId: item.priceId, quantity: item.quantity };
    }
    if (!base) return null;
    const seatMatches = seat && seat.planId === base.planId && seat.interval === base.interval;
    return {
      planId: base.planId,
      interval: base.interval,
      basePriceId: base.priceId,
      seatPriceId: seatMatches ? seat!.priceId : null,
      seats: seatMatches ? seat!.quantity : 0,
    };
  }

  /**
   * The catalogue's prices among these Stripe price ids. What a price is (plan, interval, kind) never
   * changes once catalogue sync recorded it (Stripe prices are immutable; a replaced price keeps its row),
   * so a price found is remembered for PRICE_MEMORY_MS and the webhook hot path (every subscription event
   * describes its items) does not ask PostgreSQL each time; a price not found is asked again every time
   * (a sync may record it at any moment).
   */
  private async knownPrices(priceIds: string[], manager: EntityManager): Promise<Map<string, KnownPrice>> {
    const now = Date.now();
    const known = new Map<string, KnownPrice>();
    const missing: string[] = [];
    for (const id of priceIds) {
      const remembered = this.prices.get(id);
      if (remembered && remembered.until > now) known.set(id, remembered.price);
      else missing.push(id);
    }
    if (missing.length === 0) return known;
    const rows = await manager
      .getRepository(CatalogPriceOrmEntity)
      .find({ where: { stripePriceId: In(missing) } });
    for (const row of rows) {
      const price = { planId: row.planId, interval: row.interval, kind: row.kind };
      known.set(row.stripePriceId, price);
      this.prices.set(row.stripePriceId, { price, until: now + PRICE_MEMORY_MS });
    }
    return known;
  }

  private identify(
    item: StripeItemRef,
    row: KnownPrice | undefined,
  ): { planId: string; interval: BillingInterval; kind: PriceKind } | null {
    if (row) return { planId: row.planId, interval: row.interval, kind: row.kind };
    const m = item.metadata ?? {};
    const kind = m.catalog_kind;
    if (m.catalog_plan_id && isBillingInterval(m.catalog_interval) && (kind === 'base' || kind === 'seat')) {
      return { planId: m.catalog_plan_id, interval: m.catalog_interval, kind };
    }
    return item.lookupKey ? parsePriceLookupKey(item.lookupKey, this.configured) : null;
  }
}
