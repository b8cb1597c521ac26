import { Processor } from '@nestjs/bull';
import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Clock } from '../../../platform/clock/clock.js';
import { HandlesJob } from '../../../platform/queue/handles-job.decorator.js';
import { QUEUES } from '../../../platform/queue/queue.registry.js';
import { CreateRefundHandler } from '../commands/create-refund/create-refund.handler.js';

/** An API refund still without a Stripe id after this long lost its answer. */
export const STALE_REFUND_MS = 2 * 60 * 1000;

/**
 * Re-sends API refunds whose Stripe call got no answer (timeout, 5xx, crash): a pending refund holds
 * its amount, so it must end at Stripe (once: same idempotency key) or be marked failed.
 */
@Injectable()
export class RefundsJanitor {
  private readonly logger = new Logger('RefundsJanitor');

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly clock: Clock,
    private readonly refunds: CreateRefundHandler,
  ) {}

  async run(): Promise<{ checked: number; errors: number }> {
    const staleBefore = new Date(this.clock.now().getTime() - STALE_REFUND_MS);
    const rows: { id: string }[] = await this.db.query(
      `SELECT id FROM refunds
        WHERE origin = 'api' AND status = 'pending' AND stripe_refund_id IS NULL AND created_at < $1
        ORDER BY created_at ASC LIMIT 100`,
      [staleBefore],
    );
    let errors = 0;
    for (const { id } of rows) {
      try {
        await this.refunds.resubmit(id);
      } catch (error) {
        errors += 1;
        this.logger.warn({ refundId: id, err: error }, 'refund not resubmitted');
      }
    }
    return { checked: rows.length, errors };
  }
}

@Processor(QUEUES.maintenance)
export class RefundsJanitorProcessor {
  constructor(private readonly janitor: RefundsJanitor) {}

  @HandlesJob('maintenance.resubmit-refunds')
  resubmit(): Promise<{ checked: number; errors: number }> {
    return this.janitor.run();
  }
}
