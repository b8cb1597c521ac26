import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Clock } from '../../../platform/clock/clock.js';
import { JobQueue } from '../../../platform/queue/job-queue.js';
import { requeuePendingRows } from '../../../platform/queue/outbox-sweep.js';

/** Rows older than this without being sent are (re-)enqueued: their after-commit enqueue may have been lost. */
const SWEEP_AFTER_MS = 30_000;

/**
 * Enqueues pending outbox rows whose job may be missing (Redis was down at commit, or a process died in
 * between). The job id is the row id, so a row whose job is still waiting is not queued twice; the
 * sender skips rows already sent.
 */
@Injectable()
export class SweepNotifications {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly clock: Clock,
    private readonly jobs: JobQueue,
  ) {}

  sweep(limit = 500): Promise<{ requeued: number }> {
    return requeuePendingRows(this.db, this.jobs, {
      table: 'notifications',
      job: 'notifications.send',
      payload: (id) => ({ notificationId: id }),
      before: new Date(this.clock.now().getTime() - SWEEP_AFTER_MS),
      limit,
    });
  }
}
