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
    const inserted: { id: string }[] = await manager.query(
      `INSERT INTO integration_events (id, account_id, type, subject_id, dedupe_key, payload, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (dedupe_key) DO NOTHING
       RETURNING id`,
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
    if (inserted.length === 0) return null;
    const deliveries: { id: string }[] = await manager.query(
      `INSERT INTO integration_deliveries (id, event_id, endpoint_id, status, attempts, created_at, updated_at)
       SELECT gen_random_uuid(), $1, e.id, 'pending', 0, $2, $2
         FROM integration_endpoints e WHERE e.deleted_at IS NULL
       RETURNING id`,
      [id, now],
    );
    if (deliveries.length > 0) {
      this.afterCommit.run(manager, async () => {
        for (const d of deliveries) {
          await this.jobs.enqueue('integrations.deliver', { deliveryId: d.id }, { jobId: d.id });
        }
      });
    }
    return id;
  }
}
