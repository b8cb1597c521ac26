import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Clock } from '../../../platform/clock/clock.js';
import { AppConfig } from '../../../platform/config/app-config.js';
import { rows } from '../../../platform/database/row-sql.js';
import { InboxQueue } from './inbox-queue.js';

const BATCH = 500;

/**
 * The safety net of the inbox (R-CORE-8: never silently dropped). Re-enqueues events that have not
 * moved for WEBHOOK_SWEEP_AFTER_MS:
 * - `pending` (stored while Redis was down, or the job was lost) and `failed` (the retry job was lost):
 *   queued again unless Bull already holds a waiting/delayed/active job for them, their own or their
 *   intake batch's (`job_id`);
 * - `processing` and NOT locked by any transaction (`FOR UPDATE SKIP LOCKED`): a live worker holds the
 *   row lock for the whole of its transaction, so an unlocked row was left by a worker that died after
 *   claiming it. It is recovered at once instead of waiting for Bull's stalled-job check.
 * Running an event twice is harmless: the processing transaction re-checks the status under the row lock.
 */
@Injectable()
export class InboxSweeper {
  private readonly logger = new Logger('WebhookSweeper');

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly queue: InboxQueue,
    private readonly clock: Clock,
    private readonly config: AppConfig,
  ) {}

  async sweep(): Promise<{ requeued: number; recovered: number }> {
    const cutoff = new Date(this.clock.now().getTime() - this.config.webhooks.sweepAfterMs);
    const waiting = await rows<{ id: string; job_id: string | null }>(
      this.db,
      `SELECT id, job_id FROM webhook_events
        WHERE status IN ('pending', 'failed') AND updated_at < $1
        ORDER BY updated_at LIMIT $2`,
      [cutoff, BATCH],
    );
    const orphans = await this.db.transaction((manager) =>
      rows<{ id: string; attempts: number; job_id: string | null }>(
        manager,
        `SELECT id, attempts, job_id FROM webhook_events
          WHERE status = 'processing' AND updated_at < $1
          ORDER BY updated_at LIMIT $2
          FOR UPDATE SKIP LOCKED`,
        [cutoff, BATCH],
      ),
    );
    let requeued = 0;
    let recovered = 0;
    for (const row of waiting) {
      if ((await this.tryQueue(row.id, { batchJobId: row.job_id })) === 'queued') requeued++;
    }
    for (const row of orphans) {
      const options = { orphaned: true, attempt: row.attempts, batchJobId: row.job_id };
      if ((await this.tryQueue(row.id, options)) === 'queued') recovered++;
    }
    if (requeued + recovered > 0) {
      this.logger.warn({ msg: 'webhook inbox sweep re-enqueued events', requeued, recovered });
    }
    return { requeued, recovered };
  }

  private async tryQueue(
    eventId: string,
    options: { orphaned?: boolean; attempt?: number; batchJobId?: string | null },
  ): Promise<'queued' | 'already_queued' | 'error'> {
    try {
      return await this.queue.ensureQueued(eventId, options);
    } catch (error) {
      this.logger.warn({
        msg: 'sweeper could not enqueue an event',
        eventId,
        error: error instanceof Error ? error.message : String(error),
      });
      return 'error';
    }
  }
}
