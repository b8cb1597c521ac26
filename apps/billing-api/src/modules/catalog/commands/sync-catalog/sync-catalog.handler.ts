import {
  catalogueLookupKeys,
  type BillingInterval,
  type Catalogue,
  type CataloguePrice,
  type PlanDefinition,
  type PriceKind,
} from '@billing/domain';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type Stripe from 'stripe';
import { DataSource, type EntityManager } from 'typeorm';
import { Clock } from '../../../../platform/clock/clock.js';
import { StripeGateway } from '../../../../platform/stripe/stripe.gateway.js';
import { AuditFacade } from '../../../audit/audit.facade.js';
import { CATALOGUE } from '../../catalog.tokens.js';
import { CatalogPriceOrmEntity } from '../../persistence/catalog-price.orm-entity.js';

/** One change catalogue sync made (or, in a dry run, would make). */
export type CatalogSyncChange =
  | { object: 'product'; id: string; action: 'created' | 'updated' }
  | {
      object: 'price';
      lookupKey: string;
      id: string;
      /**
       * `created`: the lookup key had no price; `replaced`: the amount, currency or interval changed, so a
       * new price took the lookup key and the old one (`previousId`) was archived; `reactivated`: the
       * price was archived; `updated`: its nickname or metadata changed; `recorded`: Stripe already had
       * it, only our table did not.
       */
      action: 'created' | 'replaced' | 'reactivated' | 'updated' | 'recorded';
      previousId?: string;
    };

export interface CatalogSyncReport {
  dryRun: boolean;
  changes: CatalogSyncChange[];
  /** Products and prices that were already as the catalogue says. */
  unchanged: number;
}

/** Advisory lock key of the sync: processes syncing at start-up take turns. */
const SYNC_LOCK = 'catalog_sync';

const INTERVAL_WORD: Record<BillingInterval, string> = { month: 'monthly', year: 'yearly' };

/** The Stripe product of a plan's base prices (`plan_pro`) and of its add-on seats (`plan_pro_seat`). */
export function productIdOf(planId: string, kind: PriceKind): string {
  return kind === 'base' ? `plan_${planId}` : `plan_${planId}_seat`;
}

function productNameOf(plan: PlanDefinition, kind: PriceKind): string {
  return kind === 'base' ? plan.name : `${plan.name} – extra seat`;
}

function priceMetadata(entry: CataloguePrice): Record<string, string> {
  return { catalog_plan_id: entry.planId, catalog_interval: entry.interval, catalog_kind: entry.kind };
}

/** What a Stripe price must be to sell `entry`; anything else needs a new price (amounts are immutable at Stripe). */
function sells(price: Stripe.Price, entry: CataloguePrice, productId: string): boolean {
  const product = typeof price.product === 'string' ? price.product : price.product.id;
  return (
    price.type === 'recurring' &&
    price.billing_scheme === 'per_unit' &&
    price.unit_amount === entry.unitAmount.amountMinor &&
    price.currency === entry.unitAmount.currency &&
    price.recurring?.interval === entry.interval &&
    price.recurring.interval_count === 1 &&
    price.recurring.usage_type === 'licensed' &&
    product === productId
  );
}

/**
 * Catalogue sync (R-PLAN-2): makes Stripe's products and prices what the catalogue file says, through
 * the one Stripe gateway, idempotently: a second run changes nothing.
 *
 * - One product per plan (`plan_<id>`) and one for its add-on seats (`plan_<id>_seat`), created with
 *   those ids, renamed or reactivated when they differ.
 * - One price per (plan, interval, kind), found by its lookup key `<plan>_<interval>_<kind>`. A Stripe
 *   price's amount, currency and interval cannot change: when they differ, a new price is created with
 *   `transfer_lookup_key` (it takes the key over) and the old one is archived. Subscriptions on the old
 *   price keep it until they change plan; the table keeps its mapping.
 * - Every Stripe write carries a deterministic idempotency key, so a sync interrupted and run again
 *   never creates a price twice; every change is audited; Free (price 0) is never sent to Stripe.
 * - Plans removed from the file are left alone at Stripe (subscriptions may still use them).
 */
@Injectable()
export class SyncCatalogHandler {
  private readonly logger = new Logger('CatalogSync');

  constructor(
    @Inject(CATALOGUE) private readonly catalogue: Catalogue,
    private readonly stripe: StripeGateway,
    private readonly audit: AuditFacade,
    private readonly clock: Clock,
    @InjectDataSource() private readonly db: DataSource,
  ) {}

  async execute(options: { dryRun?: boolean } = {}): Promise<CatalogSyncReport> {
    const dryRun = options.dryRun === true;
    return this.db.transaction(async (manager) => {
      await manager.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, [SYNC_LOCK]);
      const report: CatalogSyncReport = { dryRun, changes: [], unchanged: 0 };
      const entries = catalogueLookupKeys(this.catalogue);
      const plans = new Map(this.catalogue.plans.map((p) => [p.id, p]));
      const productKeys = new Map<string, { plan: PlanDefinition; kind: PriceKind }>();
      for (const e of entries)
        productKeys.set(productIdOf(e.planId, e.kind), { plan: plans.get(e.planId)!, kind: e.kind });
      for (const [id, { plan, kind }] of productKeys) await this.syncProduct(manager, report, id, plan, kind);

      const existing = await this.pricesByLookupKey(entries.map((e) => e.lookupKey));
      const rows = new Map(
        (await manager.getRepository(CatalogPriceOrmEntity).find()).map((r) => [r.stripePriceId, r]),
      );
      for (const entry of entries) {
        await this.syncPrice(
          manager,
          report,
          entry,
          plans.get(entry.planId)!,
          existing.get(entry.lookupKey),
          rows,
        );
      }
      this.logger.log(
        { dryRun, changes: report.changes.length, unchanged: report.unchanged },
        dryRun ? 'catalogue sync (dry run)' : 'catalogue synced',
      );
      return report;
    });
  }

  private async syncProduct(
    manager: EntityManager,
    report: CatalogSyncReport,
    id: string,
    plan: PlanDefinition,
    kind: PriceKind,
  ): Promise<void> {
    const name = productNameOf(plan, kind);
    const metadata = { catalog_plan_id: plan.id, catalog_kind: kind };
    const current = await this.stripe.call('catalog.product.retrieve', async (s) => {
      try {
        return await s.products.retrieve(id);
      } catch (error) {
        if ((error as { statusCode?: number }).statusCode === 404) return null;
        throw error;
      }
    });
    if (current && current.name === name && current.active && current.metadata.catalog_plan_id === plan.id) {
      report.unchanged += 1;
      return;
    }
    const action = current ? 'updated' : 'created';
    report.changes.push({ object: 'product', id, action });
    if (report.dryRun) return;
    // The key names the state changed from, too: the same change from another state is another request.
    const key = StripeGateway.idempotencyKey(
      `catalog.product.${action}`,
      id,
      name,
      plan.id,
      kind,
      current ? `${current.name}|${String(current.active)}` : 'none',
    );
    if (current) {
      await this.stripe.call('catalog.product.update', (s) =>
        s.products.update(id, { name, active: true, metadata }, { idempotencyKey: key }),
      );
    } else {
      await this.stripe.call('catalog.product.create', (s) =>
        s.products.create({ id, name, metadata }, { idempotencyKey: key }),
      );
    }
    await this.audit.record(
      {
        accountId: null,
        action: `catalog.product_${action}`,
        entityType: 'stripe_product',
        entityId: id,
        before: current ? { name: current.name, active: current.active } : null,
        after: { name, active: true, planId: plan.id, kind },
      },
      manager,
    );
  }

  private async pricesByLookupKey(keys: string[]): Promise<Map<string, Stripe.Price>> {
    const found = new Map<string, Stripe.Price>();
    for (let i = 0; i < keys.length; i += 10) {
      const chunk = keys.slice(i, i + 10);
      const page = await this.stripe.call('catalog.price.list', (s) =>
        s.prices.list({ lookup_keys: chunk, limit: 100 }),
      );
      for (const price of page.data) if (price.lookup_key) found.set(price.lookup_key, price);
    }
    return found;
  }

  private async syncPrice(
    manager: EntityManager,
    report: CatalogSyncReport,
    entry: CataloguePrice,
    plan: PlanDefinition,
    current: Stripe.Price | undefined,
    rows: Map<string, CatalogPriceOrmEntity>,
  ): Promise<void> {
    const productId = productIdOf(entry.planId, entry.kind);
    const nickname = `${productNameOf(plan, entry.kind)}, ${INTERVAL_WORD[entry.interval]}`;
    const metadata = priceMetadata(entry);
    let price: Stripe.Price;
    let action: Extract<CatalogSyncChange, { object: 'price' }>['action'] | null = null;

    if (current && sells(current, entry, productId)) {
      price = current;
      const renamed = current.nickname !== nickname || current.metadata.catalog_plan_id !== entry.planId;
      if (!current.active || renamed) {
        action = current.active ? 'updated' : 'reactivated';
        if (!report.dryRun) {
          price = await this.stripe.call('catalog.price.update', (s) =>
            s.prices.update(
              current.id,
              { active: true, nickname, metadata },
              {
                idempotencyKey: StripeGateway.idempotencyKey(
                  'catalog.price.update',
                  current.id,
                  nickname,
                  `${current.nickname ?? ''}|${String(current.active)}`,
                ),
              },
            ),
          );
        }
      } else if (!rows.get(current.id)?.isCurrent) {
        action = 'recorded';
      }
    } else {
      action = current ? 'replaced' : 'created';
      if (report.dryRun) {
        report.changes.push({
          object: 'price',
          lookupKey: entry.lookupKey,
          id: '(new)',
          action,
          ...(current ? { previousId: current.id } : {}),
        });
        return;
      }
      // The key names what is created and what it replaces: a retry after a crash gets the same price,
      // and moving back to an earlier amount later makes a new one.
      const idempotencyKey = StripeGateway.idempotencyKey(
        'catalog.price.create',
        entry.lookupKey,
        entry.unitAmount.amountMinor,
        entry.unitAmount.currency,
        entry.interval,
        productId,
        current?.id ?? 'none',
      );
      price = await this.stripe.call('catalog.price.create', (s) =>
        s.prices.create(
          {
            product: productId,
            currency: entry.unitAmount.currency,
            unit_amount: entry.unitAmount.amountMinor,
            recurring: { interval: entry.interval, interval_count: 1, usage_type: 'licensed' },
            lookup_key: entry.lookupKey,
            transfer_lookup_key: true,
            nickname,
            metadata,
          },
          { idempotencyKey },
        ),
      );
      if (current?.active) {
        await this.stripe.call('catalog.price.archive', (s) =>
          s.prices.update(
            current.id,
            { active: false },
            { idempotencyKey: StripeGateway.idempotencyKey('catalog.price.archive', current.id) },
          ),
        );
      }
    }

    if (action === null) {
      report.unchanged += 1;
      return;
    }
    report.changes.push({
      object: 'price',
      lookupKey: entry.lookupKey,
      id: price.id,
      action,
      ...(action === 'replaced' && current ? { previousId: current.id } : {}),
    });
    if (report.dryRun) return;
    await this.record(
      manager,
      entry,
      productId,
      price.id,
      current && current.id !== price.id ? current : undefined,
      rows,
    );
    await this.audit.record(
      {
        accountId: null,
        action: `catalog.price_${action}`,
        entityType: 'stripe_price',
        entityId: price.id,
        before: current
          ? {
              id: current.id,
              unitAmount: current.unit_amount,
              currency: current.currency,
              active: current.active,
            }
          : null,
        after: {
          id: price.id,
          lookupKey: entry.lookupKey,
          unitAmount: entry.unitAmount.amountMinor,
          currency: entry.unitAmount.currency,
          interval: entry.interval,
          active: true,
        },
      },
      manager,
    );
  }

  /** The table after a price change: `priceId` current for its lookup key, a replaced one kept as history. */
  private async record(
    manager: EntityManager,
    entry: CataloguePrice,
    productId: string,
    priceId: string,
    replaced: Stripe.Price | undefined,
    rows: Map<string, CatalogPriceOrmEntity>,
  ): Promise<void> {
    const repo = manager.getRepository(CatalogPriceOrmEntity);
    const now = this.clock.now();
    await repo.update({ lookupKey: entry.lookupKey, isCurrent: true }, { isCurrent: false, updatedAt: now });
    if (replaced && !rows.has(replaced.id) && replaced.recurring) {
      await repo.insert({
        stripePriceId: replaced.id,
        lookupKey: entry.lookupKey,
        planId: entry.planId,
        interval: entry.interval,
        kind: entry.kind,
        stripeProductId: typeof replaced.product === 'string' ? replaced.product : replaced.product.id,
        unitAmount: replaced.unit_amount ?? 0,
        currency: replaced.currency,
        isCurrent: false,
        createdAt: now,
        updatedAt: now,
      });
    }
    const values = {
      lookupKey: entry.lookupKey,
      planId: entry.planId,
      interval: entry.interval,
      kind: entry.kind,
      stripeProductId: productId,
      unitAmount: entry.unitAmount.amountMinor,
      currency: entry.unitAmount.currency,
      isCurrent: true,
      updatedAt: now,
    };
    if (rows.has(priceId)) await repo.update({ stripePriceId: priceId }, values);
    else await repo.insert({ stripePriceId: priceId, ...values, createdAt: now });
  }
}
