import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The sender's lease on an outbox row (R-NOT-1): a run claims a pending row for a while (`claimed_by`,
 * `claimed_until`) instead of holding its row lock, and a database connection, while the SMTP server
 * takes the message. Another run skips a row under a live lease; an expired lease (the run died) lets
 * the row be claimed again.
 */
export class NotificationSendLease1763870000000 implements MigrationInterface {
  name = 'NotificationSendLease1763870000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE notifications ADD COLUMN claimed_by uuid, ADD COLUMN claimed_until timestamptz`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE notifications DROP COLUMN claimed_by, DROP COLUMN claimed_until`);
  }
}
