import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Clock } from '../../../platform/clock/clock.js';
import { JobQueue } from '../../../platform/queue/job-queue.js';

const SWEEP_AFTER_MS = 60_000;

/** Enqueues pending deliveries whose job is missing (lost after-commit enqueue, Redis outage). */
@Injectable()
export class SweepIntegrationDeliveries {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly clock: Clock,
    private readonly jobs: JobQueue,
  ) {}

  async sweep(limit = 500): Promise<{ requeued: number }> {
    const before = new Date(this.clock.now().getTime() - SWEEP_AFTER_MS);
    const rows = await this.db.query<{ id: string }[]>(
      `SELECT id FROM integration_deliveries WHERE status = 'pending' AND updated_at < $1 ORDER BY created_at LIMIT $2`,
      [before, limit],
    );
    let requeued = 0;
    for (const { id } of rows) {
      if ((await this.jobs.ensureQueued('integrations.deliver', { deliveryId: id }, id)) === 'queued')
        requeued += 1;
    }
    return { requeued };
  }
}
