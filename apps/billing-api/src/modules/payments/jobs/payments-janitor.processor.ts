import { Processor } from '@nestjs/bull';
import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Clock } from '../../../platform/clock/clock.js';
import { HandlesJob } from '../../../platform/queue/handles-job.decorator.js';
import { QUEUES } from '../../../platform/queue/queue.registry.js';
import { SettlePaymentHandler } from '../commands/settle-payment/settle-payment.handler.js';

/** A payment created through the API that is still `pending` after this long lost its answer. */
export const STALE_PENDING_MS = 2 * 60 * 1000;
const BATCH = 100;

/**
 * Settles payments whose outcome is not known (R-PAY-1): `unknown` ones, and API payments left
 * `pending` (a crash between our insert and Stripe's answer). Each is re-read from Stripe, or created
 * again with the same idempotency key, so a payment is never charged twice. Webhooks settle most of
 * them first; this is the safety net.
 */
@Injectable()
export class PaymentsJanitor {
  private readonly logger = new Logger('PaymentsJanitor');

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly clock: Clock,
    private readonly settle: SettlePaymentHandler,
  ) {}

  async run(): Promise<{ checked: number; settled: number; errors: number }> {
    const staleBefore = new Date(this.clock.now().getTime() - STALE_PENDING_MS);
    const rows: { id: string }[] = await this.db.query(
      `SELECT id FROM payments
        WHERE status = 'unknown' OR (status = 'pending' AND origin = 'api' AND created_at < $1)
        ORDER BY updated_at ASC LIMIT ${BATCH}`,
      [staleBefore],
    );
    let settled = 0;
    let errors = 0;
    for (const { id } of rows) {
      try {
        const status = await this.settle.execute(id);
        if (status !== 'unknown' && status !== 'pending') settled += 1;
      } catch (error) {
        errors += 1;
        this.logger.warn({ paymentId: id, err: error }, 'payment not settled yet');
      }
    }
    return { checked: rows.length, settled, errors };
  }
}

@Processor(QUEUES.maintenance)
export class PaymentsJanitorProcessor {
  constructor(private readonly janitor: PaymentsJanitor) {}

  @HandlesJob('maintenance.settle-payments')
  settle(): Promise<{ checked: number; settled: number; errors: number }> {
    return this.janitor.run();
  }
}
