import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Dunning (R-DUN-5): one case per unpaid invoice, one row per step of the policy (unique per case and
 * step, so a step runs once however many workers, jobs and catch-ups reach it), and the last known
 * time of each Stripe test clock the cases follow.
 */
export class Dunning1764420000000 implements MigrationInterface {
  name = 'Dunning1764420000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE dunning_cases (
      id uuid PRIMARY KEY,
      account_id uuid NOT NULL REFERENCES accounts(id),
      subscription_id uuid NULL,
      stripe_subscription_id text NULL,
      stripe_invoice_id text NOT NULL UNIQUE,
      stripe_customer_id text NOT NULL,
      test_clock_id text NULL,
      amount_due bigint NOT NULL,
      currency text NOT NULL,
      hosted_invoice_url text NULL,
      day0 timestamptz NOT NULL,
      suspend_at timestamptz NOT NULL,
      status text NOT NULL CHECK (status IN ('open', 'closed')),
      suspended_at timestamptz NULL,
      outcome text NULL CHECK (outcome IN ('paid', 'voided', 'uncollectible', 'subscription_canceled')),
      closed_at timestamptz NULL,
      created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL)`);
    await q.query(
      `CREATE INDEX dunning_cases_open_account ON dunning_cases (account_id) WHERE status = 'open'`,
    );
    await q.query(
      `CREATE INDEX dunning_cases_open_subscription ON dunning_cases (stripe_subscription_id) WHERE status = 'open'`,
    );
    await q.query(`CREATE TABLE dunning_steps (
      case_id uuid NOT NULL REFERENCES dunning_cases(id) ON DELETE CASCADE,
      step_id text NOT NULL,
      position integer NOT NULL,
      day_offset integer NOT NULL,
      due_at timestamptz NOT NULL,
      status text NOT NULL CHECK (status IN ('pending', 'done', 'canceled')),
      ran_at timestamptz NULL,
      retry_outcome text NULL CHECK (retry_outcome IN ('succeeded', 'failed')),
      PRIMARY KEY (case_id, step_id))`);
    await q.query(
      `CREATE INDEX dunning_steps_pending_due ON dunning_steps (due_at) WHERE status = 'pending'`,
    );
    await q.query(`CREATE TABLE dunning_test_clocks (
      test_clock_id text PRIMARY KEY,
      frozen_time timestamptz NOT NULL,
      updated_at timestamptz NOT NULL)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE dunning_test_clocks`);
    await q.query(`DROP TABLE dunning_steps`);
    await q.query(`DROP TABLE dunning_cases`);
  }
}
