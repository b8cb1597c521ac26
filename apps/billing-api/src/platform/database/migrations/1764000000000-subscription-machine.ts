import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The subscription machine's own state beside the Stripe mirror (R-SM): the failed payment attempts of
 * the dunning clock and a downgrade scheduled for the period end (R-SUB-4). The row's plan, interval
 * and seats are the app's (what the account is entitled to, as the machine decided); what Stripe bills
 * stays in base_price_id and seat_price_id.
 */
export class SubscriptionMachine1764000000000 implements MigrationInterface {
  name = 'SubscriptionMachine1764000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE subscriptions
      ADD COLUMN failed_attempts integer NOT NULL DEFAULT 0 CHECK (failed_attempts >= 0),
      ADD COLUMN pending_plan_id text,
      ADD COLUMN pending_interval text CHECK (pending_interval IS NULL OR pending_interval IN ('month', 'year')),
      ADD COLUMN pending_effective_at timestamptz,
      ADD CONSTRAINT subscriptions_pending_change_whole CHECK (
        (pending_plan_id IS NULL) = (pending_interval IS NULL)
        AND (pending_plan_id IS NULL) = (pending_effective_at IS NULL))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE subscriptions DROP CONSTRAINT subscriptions_pending_change_whole,
      DROP COLUMN pending_effective_at, DROP COLUMN pending_interval, DROP COLUMN pending_plan_id,
      DROP COLUMN failed_attempts`);
  }
}
