import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Opt-outs of reminder e-mails (R-NOT-3): one row per account and reminder template, written by the
 * one-click `List-Unsubscribe` link (RFC 8058) or the preferences API. An outbox row whose template the
 * account opted out of is marked `suppressed` by the sender instead of being mailed.
 */
export class NotificationOptOuts1763860000000 implements MigrationInterface {
  name = 'NotificationOptOuts1763860000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE notification_opt_outs (
        account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
        template text NOT NULL,
        source text NOT NULL CHECK (source IN ('one_click', 'api')),
        created_at timestamptz NOT NULL,
        PRIMARY KEY (account_id, template)
      )`);
    await q.query(`ALTER TABLE notifications DROP CONSTRAINT notifications_status_check`);
    await q.query(`
      ALTER TABLE notifications ADD CONSTRAINT notifications_status_check
        CHECK (status IN ('pending', 'sent', 'failed', 'suppressed'))`);
  }

  async down(q: QueryRunner): Promise<void> {
    // A suppressed row was never sent and never will be: the closest earlier status is `failed`.
    await q.query(
      `UPDATE notifications SET status = 'failed', last_error = 'suppressed (opt-out)' WHERE status = 'suppressed'`,
    );
    await q.query(`ALTER TABLE notifications DROP CONSTRAINT notifications_status_check`);
    await q.query(`
      ALTER TABLE notifications ADD CONSTRAINT notifications_status_check
        CHECK (status IN ('pending', 'sent', 'failed'))`);
    await q.query(`DROP TABLE notification_opt_outs`);
  }
}
