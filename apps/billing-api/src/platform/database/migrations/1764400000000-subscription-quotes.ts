import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Plan-change quotes (R-SUB-3): what Stripe's invoice preview priced for a change at a fixed
 * `proration_date`, locked until `expires_at`, and what the subscription was when it was priced (its
 * version and Stripe billing fingerprint), so that a change applies exactly its quote or is refused.
 * `status` claims the quote for one change at a time (`applying`), `attempts` numbers the Stripe calls
 * (a declined charge may be retried with another card under a new Stripe idempotency key).
 */
export class SubscriptionQuotes1764400000000 implements MigrationInterface {
  name = 'SubscriptionQuotes1764400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE subscription_quotes (
      id uuid PRIMARY KEY,
      account_id uuid NOT NULL REFERENCES accounts(id),
      subscription_id uuid NOT NULL REFERENCES subscriptions(id),
      stripe_subscription_id text NOT NULL,
      kind text NOT NULL CHECK (kind IN ('upgrade', 'downgrade', 'seats_added', 'seats_removed')),
      from_plan_id text NOT NULL,
      from_interval text NOT NULL,
      from_seats integer NOT NULL CHECK (from_seats >= 0),
      plan_id text NOT NULL,
      billing_interval text NOT NULL CHECK (billing_interval IN ('month', 'year')),
      seats integer NOT NULL CHECK (seats >= 0),
      base_price_id text NOT NULL,
      seat_price_id text,
      currency text NOT NULL,
      amount_due_now bigint NOT NULL CHECK (amount_due_now >= 0),
      credit bigint NOT NULL CHECK (credit >= 0),
      next_invoice_amount bigint NOT NULL,
      next_invoice_at timestamptz NOT NULL,
      credit_balance_applied bigint NOT NULL CHECK (credit_balance_applied >= 0),
      proration_date bigint NOT NULL,
      subscription_version integer NOT NULL,
      fingerprint text NOT NULL,
      status text NOT NULL CHECK (status IN ('open', 'applying', 'applied')),
      attempts integer NOT NULL DEFAULT 0,
      claimed_at timestamptz,
      applied_at timestamptz,
      stripe_invoice_id text,
      expires_at timestamptz NOT NULL,
      created_by text,
      created_at timestamptz NOT NULL)`);
    await q.query(
      `CREATE INDEX subscription_quotes_account_idx ON subscription_quotes (account_id, created_at DESC)`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE subscription_quotes`);
  }
}
