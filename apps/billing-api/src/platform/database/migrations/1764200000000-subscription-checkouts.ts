import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The hosted Checkout sessions the app opened to start a subscription (R-SUB-1/2): a repeat request for
 * the same account, price and seats while one is open returns it (double-click safe), and the success
 * callback and the `checkout.session.completed` webhook mark it complete.
 */
export class SubscriptionCheckouts1764200000000 implements MigrationInterface {
  name = 'SubscriptionCheckouts1764200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE subscription_checkouts (
      id uuid PRIMARY KEY,
      account_id uuid NOT NULL REFERENCES accounts (id),
      stripe_session_id text NOT NULL UNIQUE,
      url text NOT NULL,
      plan_id text NOT NULL,
      billing_interval text NOT NULL CHECK (billing_interval IN ('month', 'year')),
      base_price_id text NOT NULL,
      seats integer NOT NULL CHECK (seats >= 0),
      status text NOT NULL CHECK (status IN ('open', 'complete')),
      stripe_subscription_id text,
      expires_at timestamptz NOT NULL,
      created_at timestamptz NOT NULL,
      completed_at timestamptz)`);
    await q.query(
      `CREATE INDEX subscription_checkouts_open ON subscription_checkouts (account_id, base_price_id, seats) WHERE status = 'open'`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE subscription_checkouts`);
  }
}
