import type { BillingInterval, PriceKind } from '@billing/domain';
import { Column, Entity, PrimaryColumn } from 'typeorm';
import { bigintTransformer } from '../../../platform/database/bigint.transformer.js';

/** A Stripe price made by catalogue sync and what it sells (R-PLAN-2); see the migration. */
@Entity('catalog_prices')
export class CatalogPriceOrmEntity {
  @PrimaryColumn({ name: 'stripe_price_id', type: 'text' })
  stripePriceId!: string;

  @Column({ name: 'lookup_key', type: 'text' })
  lookupKey!: string;

  @Column({ name: 'plan_id', type: 'text' })
  planId!: string;

  @Column({ name: 'billing_interval', type: 'text' })
  interval!: BillingInterval;

  @Column({ type: 'text' })
  kind!: PriceKind;

  @Column({ name: 'stripe_product_id', type: 'text' })
  stripeProductId!: string;

  @Column({ name: 'unit_amount', type: 'bigint', transformer: bigintTransformer })
  unitAmount!: number;

  @Column({ type: 'text' })
  currency!: string;

  /** Holds the lookup key now (the price new subscriptions get); false once replaced. */
  @Column({ name: 'is_current', type: 'boolean' })
  isCurrent!: boolean;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
