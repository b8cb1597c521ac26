import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { Clock } from '../../platform/clock/clock.js';
import { JobQueue } from '../../platform/queue/job-queue.js';
import { AfterCommit } from '../notifications/after-commit.js';
import type { RecordIntegrationEvent } from './contracts/integration-event.js';

/** What other modules may ask of outbound integrations. */
@Injectable()
export class IntegrationsFacade {
  constructor(
    private readonly clock: Clock,
    private readonly jobs: JobQueue,
    private readonly afterCommit: AfterCommit,
  ) {}

  /**
   * Writes an integration event and one pending delivery per configured endpoint in the caller's
   * transaction (the outbox); the delivery jobs are enqueued after commit (the sweeper catches any
   * lost). Recording the same type, subject and cause twice writes nothing.
   */
  async record(manager: EntityManager, input: RecordIntegrationEvent): Promise<string | null> {
    const id = randomUUID();
    const now = this.clock.now();
    // One statement: the event (nothing when its dedupe key is known) and a delivery per live endpoint.
    const deliveries: { id: string | null; event_id: string }[] = await manager.query(
      `WITH event AS (
         INSERT INTO integration_events (id, account_id, type, subject_id, dedupe_key, payload, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (dedupe_key) DO NOTHING
         RETURNING id),
       delivery AS (
         INSERT INTO integration_deliveries (id, event_id, endpoint_id, status, attempts, created_at, updated_at)
         SELECT gen_random_uuid(), event.id, e.id, 'pending', 0, $7, $7
           FROM event, integration_endpoints e WHERE e.deleted_at IS NULL
         RETURNING id, event_id)
       SELECT delivery.id, event.id AS event_id FROM event LEFT JOIN delivery ON delivery.event_id = event.id`,
      [
        id,
        input.accountId,
        input.type,
        input.subjectId,
        `${input.type}:${input.subjectId}:${input.causeId}`,
        JSON.stringify(input.data),
        now,
      ],
    );
    if (deliveries.length === 0) return null;
    const ids = deliveries.flatMap((d) => (d.id ? [d.id] : []));
    if (ids.length > 0) {
      this.afterCommit.run(manager, async () => {
        for (const deliveryId of ids) {
          await this.jobs.enqueue('integrations.deliver', { deliveryId }, { jobId: deliveryId });
        }
      });
    }
    return id;
  }
}
