import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The unfinished inbox events by the Stripe customer their object belongs to (the object itself when it
 * names no customer), replacing the index by object: a worker claims an event only when no older event of
 * the same customer is pending or running elsewhere. One object's order was not enough: an invoice's
 * `invoice.payment_failed` moves its subscription through dunning, so a batch that applied it before an
 * older `customer.subscription.updated` of the same customer running in another batch (or ordered after
 * it in the same batch) let the older event put the subscription back to active
 * (dunning-resilience). The expression is the one `ProcessStripeEvent`'s claim compares.
 */
export class WebhookOpenCustomer1764550000000 implements MigrationInterface {
  name = 'WebhookOpenCustomer1764550000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS webhook_events_open_object_idx`);
    await q.query(
      `CREATE INDEX webhook_events_open_customer_idx
         ON webhook_events ((COALESCE(payload->'data'->'object'->>'customer', payload->'data'->'object'->>'id')),
                            event_created, id)
         WHERE status IN ('pending', 'processing')`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX webhook_events_open_customer_idx`);
    await q.query(
      `CREATE INDEX webhook_events_open_object_idx
         ON webhook_events ((payload->'data'->'object'->>'id'), event_created, id)
         WHERE status IN ('pending', 'processing')`,
    );
  }
}
