import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The mirror of each account's Stripe customer, kept by the `customer.*` webhook handler: balance in
 * minor units (negative = credit), default payment method, email, delinquency, deletion, and the
 * `created` time of the last applied customer event (the ordering rule, R-SM-3).
 */
export class AccountStripeCustomer1763810001000 implements MigrationInterface {
  name = 'AccountStripeCustomer1763810001000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE accounts
        ADD COLUMN stripe_balance bigint NOT NULL DEFAULT 0,
        ADD COLUMN stripe_default_payment_method_id text,
        ADD COLUMN stripe_email text,
        ADD COLUMN stripe_delinquent boolean NOT NULL DEFAULT false,
        ADD COLUMN stripe_customer_deleted boolean NOT NULL DEFAULT false,
        ADD COLUMN stripe_customer_synced_at timestamptz`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE accounts
        DROP COLUMN stripe_balance,
        DROP COLUMN stripe_default_payment_method_id,
        DROP COLUMN stripe_email,
        DROP COLUMN stripe_delinquent,
        DROP COLUMN stripe_customer_deleted,
        DROP COLUMN stripe_customer_synced_at`);
  }
}
