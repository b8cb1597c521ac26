import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Outbound integration events (seed 002): endpoints integrators configure (URL + signing secret), the
 * events written in the transaction of each payment or refund status change, one delivery per event
 * and endpoint (signed POST, retried with backoff) and the log of every attempt.
 */
export class IntegrationEvents1763850001000 implements MigrationInterface {
  name = 'IntegrationEvents1763850001000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE integration_endpoints (
        id uuid PRIMARY KEY,
        url text NOT NULL,
        secret text NOT NULL,
        description text,
        created_at timestamptz NOT NULL,
        deleted_at timestamptz
      )`);
    await q.query(`
      CREATE TABLE integration_events (
        id uuid PRIMARY KEY,
        account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
        type text NOT NULL,
        subject_id uuid NOT NULL,
        dedupe_key text NOT NULL UNIQUE,
        payload jsonb NOT NULL,
        created_at timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX integration_events_subject ON integration_events (subject_id, created_at)`);
    await q.query(`
      CREATE TABLE integration_deliveries (
        id uuid PRIMARY KEY,
        event_id uuid NOT NULL REFERENCES integration_events (id) ON DELETE CASCADE,
        endpoint_id uuid NOT NULL REFERENCES integration_endpoints (id) ON DELETE CASCADE,
        status text NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
        attempts integer NOT NULL DEFAULT 0,
        last_status_code integer,
        last_error text,
        delivered_at timestamptz,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        UNIQUE (event_id, endpoint_id)
      )`);
    await q.query(
      `CREATE INDEX integration_deliveries_pending ON integration_deliveries (updated_at) WHERE status = 'pending'`,
    );
    await q.query(`
      CREATE TABLE integration_delivery_attempts (
        id bigserial PRIMARY KEY,
        delivery_id uuid NOT NULL REFERENCES integration_deliveries (id) ON DELETE CASCADE,
        attempted_at timestamptz NOT NULL,
        status_code integer,
        error text,
        duration_ms integer NOT NULL
      )`);
    await q.query(
      `CREATE INDEX integration_delivery_attempts_delivery ON integration_delivery_attempts (delivery_id, id)`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE integration_delivery_attempts`);
    await q.query(`DROP TABLE integration_deliveries`);
    await q.query(`DROP TABLE integration_events`);
    await q.query(`DROP TABLE integration_endpoints`);
  }
}
