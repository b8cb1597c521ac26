import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The webhook inbox (R-WH-2): one row per Stripe event id, stored before the delivery is acknowledged,
 * then processed exactly once by a worker (status machine pending -> processing -> processed | ignored |
 * failed -> dead).
 */
export class WebhookInbox1763810000000 implements MigrationInterface {
  name = 'WebhookInbox1763810000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE webhook_events (
        id text PRIMARY KEY,
        type text NOT NULL,
        api_version text,
        livemode boolean NOT NULL DEFAULT false,
        event_created timestamptz NOT NULL,
        received_at timestamptz NOT NULL,
        payload jsonb NOT NULL,
        status text NOT NULL DEFAULT 'pending'
          CHECK (status IN ('pending', 'processing', 'processed', 'ignored', 'failed', 'dead')),
        attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
        last_error text,
        outcome text CHECK (outcome IN ('applied', 'skipped_stale', 'ignored')),
        processing_started_at timestamptz,
        processed_at timestamptz,
        updated_at timestamptz NOT NULL
      )`);
    // Admin listing (newest first) and its filters.
    await q.query(`CREATE INDEX webhook_events_received_idx ON webhook_events (received_at DESC, id DESC)`);
    await q.query(`CREATE INDEX webhook_events_type_idx ON webhook_events (type, received_at DESC, id DESC)`);
    await q.query(
      `CREATE INDEX webhook_events_status_idx ON webhook_events (status, received_at DESC, id DESC)`,
    );
    // The sweeper looks only at unfinished rows.
    await q.query(`
      CREATE INDEX webhook_events_open_idx ON webhook_events (updated_at)
      WHERE status IN ('pending', 'processing', 'failed')`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE webhook_events`);
  }
}
