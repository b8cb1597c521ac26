import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The Stripe time (unix seconds) of the last change the app made at Stripe itself and wrote without
 * waiting for Stripe's event (a quote applied: a plan or seat change). The webhook mirror re-reads any
 * event created up to then instead of applying its payload, which may be older than what the app
 * wrote (R-SM-3): two seat purchases in the same second must not leave the row on the first one's count.
 */
export class SubscriptionAppChangeMarker1764500001000 implements MigrationInterface {
  name = 'SubscriptionAppChangeMarker1764500001000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE subscriptions ADD COLUMN app_changed_stripe_at bigint`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE subscriptions DROP COLUMN app_changed_stripe_at`);
  }
}
