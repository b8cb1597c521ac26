import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The Stripe prices catalogue sync made (R-PLAN-2), so that a Stripe price id maps back to the
 * catalogue's (plan, interval, kind). Rows are never deleted: a price replaced after an amount change is
 * archived at Stripe but still billed on the subscriptions that had it, so it keeps its row with
 * `is_current` false. At most one current price holds each lookup key, as at Stripe.
 */
export class CatalogPrices1764010000000 implements MigrationInterface {
  name = 'CatalogPrices1764010000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE catalog_prices (
        stripe_price_id text PRIMARY KEY,
        lookup_key text NOT NULL,
        plan_id text NOT NULL,
        billing_interval text NOT NULL CHECK (billing_interval IN ('month', 'year')),
        kind text NOT NULL CHECK (kind IN ('base', 'seat')),
        stripe_product_id text NOT NULL,
        unit_amount bigint NOT NULL CHECK (unit_amount >= 0),
        currency text NOT NULL CHECK (currency ~ '^[a-z]{3}$'),
        is_current boolean NOT NULL,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL
      )`);
    await q.query(
      `CREATE UNIQUE INDEX catalog_prices_current ON catalog_prices (lookup_key) WHERE is_current`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE catalog_prices`);
  }
}
