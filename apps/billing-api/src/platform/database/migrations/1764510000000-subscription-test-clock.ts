import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The Stripe test clock a mirrored subscription runs on (test mode; null on real time), so that what
 * the app does by "now" for it (the reminder scan: trial ending, card expiring) uses that clock's time.
 */
export class SubscriptionTestClock1764510000000 implements MigrationInterface {
  name = 'SubscriptionTestClock1764510000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE subscriptions ADD COLUMN test_clock_id text NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE subscriptions DROP COLUMN test_clock_id`);
  }
}
