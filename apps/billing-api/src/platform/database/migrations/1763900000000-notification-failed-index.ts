import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The admin list of outbox e-mails (`GET /v1/admin/notifications`), newest first, finds the ones an
 * operator looks for, the failed ones (few among many sent), through a partial index that holds only
 * them: no cost on the payment path, where a row is inserted, claimed and marked sent. Lists by
 * account use `notifications_account`; the pending ones, `notifications_pending`.
 */
export class NotificationFailedIndex1763900000000 implements MigrationInterface {
  name = 'NotificationFailedIndex1763900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE INDEX notifications_failed ON notifications (created_at DESC, id DESC) WHERE status = 'failed'`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX notifications_failed`);
  }
}
