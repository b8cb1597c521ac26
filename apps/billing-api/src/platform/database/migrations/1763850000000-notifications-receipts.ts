import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The notification outbox (R-NOT-1: one row per cause, `dedupe_key` unique, sent by a queue job over
 * SMTP), the per-account receipt counters and the receipts (R-PAY-4: gap-free numbers per account,
 * allocated in the payment's webhook transaction).
 */
export class NotificationsReceipts1763850000000 implements MigrationInterface {
  name = 'NotificationsReceipts1763850000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE notifications (
        id uuid PRIMARY KEY,
        account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
        template text NOT NULL,
        -- Null until the sender resolves them from the account's settings (a webhook transaction
        -- cannot read the account through the accounts facade without a second connection).
        recipient text,
        locale text,
        time_zone text,
        payload jsonb NOT NULL,
        dedupe_key text NOT NULL UNIQUE,
        status text NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
        attempts integer NOT NULL DEFAULT 0,
        last_error text,
        sent_at timestamptz,
        message_id text,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL
      )`);
    await q.query(
      `CREATE INDEX notifications_pending ON notifications (created_at) WHERE status = 'pending'`,
    );
    await q.query(`CREATE INDEX notifications_account ON notifications (account_id, created_at)`);
    await q.query(`
      CREATE TABLE receipt_counters (
        account_id uuid PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
        last_number bigint NOT NULL CHECK (last_number >= 0)
      )`);
    await q.query(`
      CREATE TABLE receipts (
        id uuid PRIMARY KEY,
        account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
        payment_id uuid NOT NULL UNIQUE REFERENCES payments (id) ON DELETE CASCADE,
        number bigint NOT NULL CHECK (number > 0),
        amount bigint NOT NULL CHECK (amount >= 0),
        currency text NOT NULL,
        issued_at timestamptz NOT NULL,
        method_brand text,
        method_last4 text,
        created_at timestamptz NOT NULL,
        UNIQUE (account_id, number)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE receipts`);
    await q.query(`DROP TABLE receipt_counters`);
    await q.query(`DROP TABLE notifications`);
  }
}
