import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Admins and support find an account by its billing email, case-insensitively (`GET /v1/admin/accounts`):
 * an index on `lower(billing_email)` that also holds the list's order, so a lookup reads only its matches.
 * Not unique: accounts may share a billing email.
 */
export class AccountBillingEmailIndex1763891000000 implements MigrationInterface {
  name = 'AccountBillingEmailIndex1763891000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE INDEX accounts_billing_email_idx ON accounts (lower(billing_email), created_at DESC, id DESC)`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX accounts_billing_email_idx`);
  }
}
