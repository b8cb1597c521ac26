import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { Clock } from '../../platform/clock/clock.js';
import { JobQueue } from '../../platform/queue/job-queue.js';
import type { EntityManager } from 'typeorm';
import { queryRows, raw, runStatement, sql, type StatementPart } from '../../platform/database/row-sql.js';
import { AfterCommit } from '../../platform/database/after-commit.js';
import type { RecordIntegrationEvent } from './contracts/integration-event.js';

/** What other modules may ask of outbound integrations. */
@Injectable()
export class IntegrationsFacade {
  constructor(
    private readonly clock: Clock,
    private readonly jobs: JobQueue,
    private readonly afterCommit: AfterCommit,
  ) {}

  /** Records an integration event in the caller's transaction: {@link recordPart} as its own statement. */
  async record(manager: EntityManager, input: RecordIntegrationEvent): Promise<void> {
    await runStatement(manager, [this.recordPart(input)]);
  }

  /**
   * Records several integration events in the caller's transaction in ONE statement (the verdicts of a
   * webhook batch's accounts: `npm run bench:peers`), each as {@link recordPart} would: a second event
   * with a dedupe key already recorded writes nothing, and each written one gets a pending delivery per
   * configured endpoint, enqueued after the commit.
   */
  async recordMany(manager: EntityManager, inputs: readonly RecordIntegrationEvent[]): Promise<void> {
    if (inputs.length === 0) return;
    if (inputs.length === 1) return this.record(manager, inputs[0]!);
    const now = this.clock.now();
    const [result] = await queryRows<{ delivery_ids: string[] | null }>(
      manager,
      sql`WITH integrations__events AS (
            INSERT INTO integration_events (id, account_id, type, subject_id, dedupe_key, payload, created_at)
            SELECT e.id, e.account_id, e.type, e.subject_id, e.dedupe_key, e.payload, ${now}::timestamptz
              FROM unnest(${inputs.map(() => randomUUID())}::uuid[], ${inputs.map((i) => i.accountId)}::uuid[],
                          ${inputs.map((i) => i.type)}::text[], ${inputs.map((i) => i.subjectId)}::uuid[],
                          ${inputs.map((i) => integrationDedupeKey(i))}::text[],
                          ${inputs.map((i) => JSON.stringify(i.data))}::jsonb[])
                   AS e(id, account_id, type, subject_id, dedupe_key, payload)
            ON CONFLICT (dedupe_key) DO NOTHING
            RETURNING id),
          integrations__deliveries AS (
            INSERT INTO integration_deliveries (id, event_id, endpoint_id, status, attempts, created_at, updated_at)
            SELECT gen_random_uuid(), integrations__events.id, e.id, 'pending', 0, ${now}::timestamptz,
                   ${now}::timestamptz
              FROM integrations__events, integration_endpoints e WHERE e.deleted_at IS NULL
            RETURNING id)
          SELECT ARRAY(SELECT id FROM integrations__deliveries) AS delivery_ids`,
    );
    this.enqueueDeliveries(manager, result?.delivery_ids ?? []);
  }

  /** The delivery jobs of outbox rows, after the commit (the sweeper catches any lost). */
  private enqueueDeliveries(manager: EntityManager, ids: string[]): void {
    if (ids.length === 0) return;
    this.afterCommit.run(manager, async () => {
      for (const deliveryId of ids) {
        await this.jobs.enqueue('integrations.deliver', { deliveryId }, { jobId: deliveryId });
      }
    });
  }

  /**
   * An integration event and one pending delivery per configured endpoint, as part of the caller's
   * statement (CTEs `integrations__event` and `integrations__deliveries`, outputs `integrations__event_id`
   * and `integrations__delivery_ids`: the module's namespace, see StatementPart), in the outbox:
   * the delivery jobs are enqueued after commit (the sweeper catches any lost). Recording the same
   * dedupe key twice (`integrationDedupeKey`) writes nothing. With `onlyWith`, written only when that
   * CTE returned a row.
   */
  recordPart(input: RecordIntegrationEvent, onlyWith?: string): StatementPart {
    const now = this.clock.now();
    return {
      ctes: [
        sql`integrations__event AS (
          INSERT INTO integration_events (id, account_id, type, subject_id, dedupe_key, payload, created_at)
          SELECT ${randomUUID()}::uuid, ${input.accountId}::uuid, ${input.type}, ${input.subjectId},
                 ${integrationDedupeKey(input)}, ${JSON.stringify(input.data)}::jsonb,
                 ${now}::timestamptz${onlyWith ? sql` FROM ${raw(onlyWith)}` : sql``}
          ON CONFLICT (dedupe_key) DO NOTHING
          RETURNING id)`,
        sql`integrations__deliveries AS (
          INSERT INTO integration_deliveries (id, event_id, endpoint_id, status, attempts, created_at, updated_at)
          SELECT gen_random_uuid(), integrations__event.id, e.id, 'pending', 0, ${now}::timestamptz, ${now}::timestamptz
            FROM integrations__event, integration_endpoints e WHERE e.deleted_at IS NULL
          RETURNING id)`,
      ],
      outputs: [
        sql`(SELECT id FROM integrations__event) AS integrations__event_id`,
        sql`ARRAY(SELECT id FROM integrations__deliveries) AS integrations__delivery_ids`,
      ],
      written: (manager, result) =>
        this.enqueueDeliveries(manager, (result.integrations__delivery_ids as string[] | null) ?? []),
    };
  }
}

/** One event per type and subject, and per change when it names one (RecordIntegrationEvent.causeId). */
export function integrationDedupeKey(
  input: Pick<RecordIntegrationEvent, 'type' | 'subjectId' | 'causeId'>,
): string {
  const key = `${input.type}:${input.subjectId}`;
  return input.causeId === null ? key : `${key}:${input.causeId}`;
}
