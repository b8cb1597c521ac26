import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The verified body of a webhook as Stripe sent it, kept only when it could not be stored as is
 * (issue 16): a string PostgreSQL cannot hold (U+0000, a lone surrogate) is stored escaped in `payload`,
 * and a malformed event (no id, type or created; not an object) is dead-lettered; the exact bytes stay here.
 */
export class WebhookRawBody1764100001000 implements MigrationInterface {
  name = 'WebhookRawBody1764100001000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE webhook_events ADD COLUMN raw_body bytea`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE webhook_events DROP COLUMN raw_body`);
  }
}
