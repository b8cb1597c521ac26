import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Clock } from '../../../../platform/clock/clock.js';
import { AuditFacade } from '../../../audit/audit.facade.js';
import { InboxQueue } from '../../processing/inbox-queue.js';
import { rows } from '../../../../platform/database/row-sql.js';

export interface ReplayResult {
  /** Dead events moved back to pending (and queued unless Redis was unavailable: the sweeper queues those). */
  replayed: string[];
  /** Ids that were not dead (or do not exist): left untouched. */
  skipped: string[];
}

/**
 * Replays dead events (R-WH-5): back to `pending` with a fresh attempt budget, then queued. Only `dead`
 * rows move (one UPDATE ... WHERE status = 'dead'), so replaying twice, or concurrently, replays once;
 * and the processing transaction applies an event at most once whatever the number of jobs.
 */
@Injectable()
export class ReplayEventsHandler {
  private readonly logger = new Logger('WebhookReplay');

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly queue: InboxQueue,
    private readonly clock: Clock,
    private readonly audit: AuditFacade,
  ) {}

  async execute(ids: string[]): Promise<ReplayResult> {
    const unique = [...new Set(ids)];
    const replayed = await this.db.transaction(async (manager) => {
      const moved = await rows<{ id: string; type: string; last_error: string | null }>(
        manager,
        `UPDATE webhook_events
            SET status = 'pending', attempts = 0, outcome = NULL, processing_started_at = NULL, updated_at = $2
          WHERE id = ANY($1::text[]) AND status = 'dead'
          RETURNING id, type, last_error`,
        [unique, this.clock.now()],
      );
      for (const row of moved) {
        await this.audit.record(
          {
            accountId: null,
            action: 'webhook_event.replayed',
            entityType: 'webhook_event',
            entityId: row.id,
            before: { status: 'dead', lastError: row.last_error },
            after: { status: 'pending' },
            reason: `replay of ${row.type}`,
          },
          manager,
        );
      }
      return moved.map((r) => r.id);
    });
    for (const id of replayed) {
      try {
        await this.queue.ensureQueued(id);
      } catch (error) {
        this.logger.warn({
          msg: 'replayed event not queued; the sweeper will queue it',
          eventId: id,
          error: error instanceof Error ? error.message : String(error),
        });
      }
    }
    const done = new Set(replayed);
    return { replayed, skipped: unique.filter((id) => !done.has(id)) };
  }
}
