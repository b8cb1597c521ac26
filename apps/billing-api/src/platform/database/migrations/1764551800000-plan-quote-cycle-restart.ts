import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Whether a quote's change restarts the billing cycle (an interval change), as priced: during a trial
 * it does not (Stripe prorates nothing, the trial continues and the new interval starts at its end),
 * which the quote's intervals alone cannot tell. Existing quotes keep what the view derived before.
 */
export class PlanQuoteCycleRestart1764551800000 implements MigrationInterface {
  name = 'PlanQuoteCycleRestart1764551800000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE subscription_quotes ADD COLUMN billing_cycle_restarts boolean`);
    await q.query(
      `UPDATE subscription_quotes
          SET billing_cycle_restarts = (kind <> 'downgrade_withdrawn' AND from_interval <> billing_interval)`,
    );
    await q.query(`ALTER TABLE subscription_quotes ALTER COLUMN billing_cycle_restarts SET NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE subscription_quotes DROP COLUMN billing_cycle_restarts`);
  }
}
