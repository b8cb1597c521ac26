import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Quotes (R-SUB-3/4, R-PLAN-3) also withdraw a scheduled downgrade (`downgrade_withdrawn`), price a
 * change of the billing interval (Stripe restarts the cycle and invoices at once: a credit larger than
 * the charge is added to the customer's credit balance, `credit_balance_added`), and carry the signed
 * total of Stripe's proration lines (`proration_amount`), the seat price a seat quote shows.
 */
export class PlanQuoteCycleAndWithdrawal1764500000000 implements MigrationInterface {
  name = 'PlanQuoteCycleAndWithdrawal1764500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE subscription_quotes DROP CONSTRAINT subscription_quotes_kind_check`);
    await q.query(
      `ALTER TABLE subscription_quotes ADD CONSTRAINT subscription_quotes_kind_check
         CHECK (kind IN ('upgrade', 'downgrade', 'seats_added', 'seats_removed', 'downgrade_withdrawn'))`,
    );
    await q.query(
      `ALTER TABLE subscription_quotes
         ADD COLUMN credit_balance_added bigint NOT NULL DEFAULT 0 CHECK (credit_balance_added >= 0),
         ADD COLUMN proration_amount bigint NOT NULL DEFAULT 0`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DELETE FROM subscription_quotes WHERE kind = 'downgrade_withdrawn'`);
    await q.query(
      `ALTER TABLE subscription_quotes DROP COLUMN credit_balance_added, DROP COLUMN proration_amount`,
    );
    await q.query(`ALTER TABLE subscription_quotes DROP CONSTRAINT subscription_quotes_kind_check`);
    await q.query(
      `ALTER TABLE subscription_quotes ADD CONSTRAINT subscription_quotes_kind_check
         CHECK (kind IN ('upgrade', 'downgrade', 'seats_added', 'seats_removed'))`,
    );
  }
}
