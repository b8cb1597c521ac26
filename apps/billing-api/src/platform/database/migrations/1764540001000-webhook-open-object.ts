import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The unfinished inbox events by the Stripe object they are about (issue 22): a worker claims an event
 * only when no older event about the same object is pending or running elsewhere, so that one object's
 * events are applied in order across batches. Only unfinished rows are indexed: the index stays as small
 * as the backlog.
 */
export class WebhookOpenObject1764540001000 implements MigrationInterface {
  name = 'WebhookOpenObject1764540001000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE INDEX webhook_events_open_object_idx
         ON webhook_events ((payload->'data'->'object'->>'id'), event_created, id)
         WHERE status IN ('pending', 'processing')`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX webhook_events_open_object_idx`);
  }
}
