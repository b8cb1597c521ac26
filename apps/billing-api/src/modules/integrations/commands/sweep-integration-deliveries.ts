import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Clock } from '../../../platform/clock/clock.js';
import { JobQueue } from '../../../platform/queue/job-queue.js';
import { requeuePendingRows } from '../../../platform/queue/outbox-sweep.js';

const SWEEP_AFTER_MS = 60_000;

/** Enqueues pending deliveries whose job is missing (lost after-commit enqueue, Redis outage). */
@Injectable()
export class SweepIntegrationDeliveries {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly clock: Clock,
    private readonly jobs: JobQueue,
  ) {}

  sweep(limit = 500): Promise<{ requeued: number }> {
    return requeuePendingRows(this.db, this.jobs, {
      table: 'integration_deliveries',
      job: 'integrations.deliver',
      payload: (id) => ({ deliveryId: id }),
      before: new Date(this.clock.now().getTime() - SWEEP_AFTER_MS),
      limit,
    });
  }
}
