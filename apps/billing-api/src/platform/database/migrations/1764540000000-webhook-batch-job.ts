import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The Bull job an inbox event was queued in (issue 22): the intake stores the events of one group commit
 * together and queues them as one `webhooks.process-events` job, whose id is not the event's. The
 * sweeper reads it to tell an event still waiting in its batch from an event whose job was lost.
 * NULL for rows stored before, and for events queued alone (their job id is the event id).
 */
export class WebhookBatchJob1764540000000 implements MigrationInterface {
  name = 'WebhookBatchJob1764540000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE webhook_events ADD COLUMN job_id text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE webhook_events DROP COLUMN job_id`);
  }
}
