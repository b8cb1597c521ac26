import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Operator-wide billing settings (R-PLAN-5): one row, the global rollout percentage of billing. An
 * account is billed when its own `billing_enabled` is on and its stable bucket is below the percentage;
 * 100 (the default) bills every account whose flag is on, as before this table existed.
 */
export class BillingSettings1764300000000 implements MigrationInterface {
  name = 'BillingSettings1764300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE billing_settings (
      id smallint PRIMARY KEY CHECK (id = 1),
      rollout_percent integer NOT NULL CHECK (rollout_percent BETWEEN 0 AND 100),
      updated_at timestamptz NOT NULL)`);
    await q.query(`INSERT INTO billing_settings (id, rollout_percent, updated_at) VALUES (1, 100, now())`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE billing_settings`);
  }
}
